// Browser sessions for the dashboard page. A browser signs in once with a token (the login
// form) and then carries an HttpOnly, SameSite=Strict cookie instead: scripts on the page
// cannot read it, other sites cannot send it, and no token ever sits in a URL. The cookie is
// sealed with the token that signed in (an HMAC keyed by it), so removing that token from
// the configuration ends its sessions, on every replica, without a session store.
import type { Authenticator, Credential } from '@ehr/runtime';

export const SESSION_COOKIE = 'ehr_session';

export interface Session {
  credential: Credential;
  expiresAt: number;
}

export class Sessions {
  constructor(
    private readonly auth: Authenticator,
    readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The cookie value for a credential that just signed in. */
  issue(credential: Credential): string {
    return this.auth.seal(credential, JSON.stringify({ exp: this.now() + this.ttlMs }));
  }

  /** The session a cookie carries, or null: absent, forged, expired, or its token revoked. */
  read(value: string | undefined): Session | null {
    if (!value) return null;
    const opened = this.auth.unseal(value);
    if (!opened) return null;
    let exp: unknown;
    try {
      exp = (JSON.parse(opened.data) as { exp?: unknown }).exp;
    } catch {
      return null;
    }
    if (typeof exp !== 'number' || exp <= this.now()) return null;
    return { credential: opened.credential, expiresAt: exp };
  }
}
