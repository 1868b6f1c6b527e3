// Who may see the ward: the page, its live feed and its JSON need the read scope, from a
// session cookie (browsers, through the login form) or a bearer token (tools). Health,
// metrics, the login form and its stylesheet stay open; they carry no patient data.
import fastifyCookie from '@fastify/cookie';
import { Authenticator, DOCS_PREFIX, problemResponses, sendProblem, type Credential } from '@ehr/runtime';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SESSION_COOKIE, type Session, type Sessions } from './session.js';

/** Routes anyone may reach: the sign-in form, its stylesheet, probes, metrics, and the API's description (no patient data). */
const OPEN_ROUTES = new Set(['/login', '/logout', '/style.css', '/health/live', '/health/ready', '/metrics', '/openapi.json', '/fhir/metadata']);
const isOpen = (url: string | undefined) => url !== undefined && (OPEN_ROUTES.has(url) || url === DOCS_PREFIX || url.startsWith(`${DOCS_PREFIX}/`));

export interface Access {
  mode: 'open' | 'token';
  via: 'bearer' | 'cookie' | null;
  scopes: string[];
  expiresAt: number | null;
}

export interface LoginOptions {
  auth: Authenticator;
  sessions: Sessions;
  /** Headers every page carries (content security policy …). */
  pageHeaders: Readonly<Record<string, string>>;
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function loginPage(message: string | null): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in · Ward severity</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/style.css">
</head>
<body class="login">
<main class="login-card">
<h1>Ward severity</h1>
<p>Sign in with an access token that can read the ward (ask whoever runs the pipeline).</p>
${message ? `<p class="login-error" role="alert" id="login-error">${escapeHtml(message)}</p>` : ''}
<form method="post" action="/login">
<label for="token">Access token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
<button type="submit" id="sign-in">Sign in</button>
</form>
</main>
</body>
</html>
`;
}

/**
 * A form posted from another site. Browsers say where a request comes from in
 * `Sec-Fetch-Site` (same-origin, or none when the user typed it), and older ones in
 * `Origin`; a request with neither is not from a browser page, so not a forgery.
 */
export function crossSite(request: FastifyRequest): boolean {
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined) return site !== 'same-origin' && site !== 'none';
  const origin = request.headers.origin;
  if (origin === undefined) return false;
  try {
    // Both through URL, so that a default port (`:80`, `:443`) compares equal to none; `null` fails.
    return new URL(origin).host !== new URL(`${request.protocol}://${request.host}`).host;
  } catch {
    return true;
  }
}

/**
 * Registers the cookie parser, the read-scope gate in front of every other route, the
 * login form (`GET/POST /login`), `POST /logout` and `GET /api/session`. Returns who made a
 * request (a bearer token's or a session's credential, or null), for routes that act for them.
 */
export function registerLogin(app: FastifyInstance, { auth, sessions, pageHeaders }: LoginOptions): (request: FastifyRequest) => Credential | null {
  void app.register(fastifyCookie);

  const sessionOf = (request: FastifyRequest): Session | null => sessions.read(request.cookies[SESSION_COOKIE]);
  const access = (request: FastifyRequest): { credential: Credential | null; access: Access } => {
    const token = Authenticator.bearer(request.headers.authorization);
    const bearer = token ? auth.verify(token) : null;
    const session = bearer ? null : sessionOf(request);
    const credential = bearer ?? session?.credential ?? null;
    return {
      credential,
      access: {
        mode: auth.open ? 'open' : 'token',
        via: bearer ? 'bearer' : session ? 'cookie' : null,
        scopes: credential ? [...credential.scopes] : auth.open ? ['read'] : [],
        expiresAt: session?.expiresAt ?? null,
      },
    };
  };

  // After the cookie plugin has loaded, so that its parsing hook runs before this one.
  app.after(() => {
    app.addHook('onRequest', async (request, reply) => {
      if (isOpen(request.routeOptions.url)) return;
      const { credential } = access(request);
      if (auth.allows(credential, 'read')) return;
      // A person opening the page is sent to the form; a tool gets the 401 it can act on.
      if (request.method === 'GET' && (request.headers.accept ?? '').includes('text/html')) return reply.redirect('/login', 303);
      const token = Authenticator.bearer(request.headers.authorization);
      return auth.refuse(reply, 'read', token && !credential ? 'invalid_token' : credential ? 'insufficient_scope' : null);
    });
  });

  const crossSiteRefusal = (reply: FastifyReply, what: string) =>
    sendProblem(reply, 403, { type: 'cross-site-request', title: 'A request from another site', detail: `${what} from another site` });

  const sendPage = (reply: FastifyReply, status: number, message: string | null) =>
    reply.code(status).headers(pageHeaders).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(loginPage(message));

  // The form's body: one field. URLSearchParams is the WHATWG parser; no object is keyed by input.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 8 * 1024 }, (_request, body, done) => {
    done(null, new URLSearchParams(body as string));
  });

  // After the OpenAPI generator has loaded, so that these are documented.
  app.after(() => {
    app.get('/login', { schema: { summary: 'The sign-in form (text/html); a signed-in page is sent on to /', tags: ['session'] } }, async (request, reply) => {
      if (auth.open || auth.allows(sessionOf(request)?.credential ?? null, 'read')) return reply.redirect('/', 303);
      return sendPage(reply, 200, null);
    });

    app.post(
      '/login',
      {
        schema: {
          summary: 'Sign in with a token (form field `token`): sets the session cookie and redirects to /',
          tags: ['session'],
          consumes: ['application/x-www-form-urlencoded'],
          response: { 303: { description: 'signed in: to /' }, 401: { description: 'the form again (text/html): not a valid token' }, ...problemResponses({ 403: 'from another site (a problem), or a token without the read scope (the form again, text/html)' }) },
        },
      },
      async (request, reply) => {
        if (crossSite(request)) return crossSiteRefusal(reply, 'sign-in');
        const form = request.body instanceof URLSearchParams ? request.body : new URLSearchParams();
        const credential = auth.verify((form.get('token') ?? '').trim());
        if (!credential) return sendPage(reply, 401, 'That token is not valid.');
        if (!auth.allows(credential, 'read')) return sendPage(reply, 403, 'That token cannot read the ward (it needs the read or admin scope).');
        return reply
          .setCookie(SESSION_COOKIE, sessions.issue(credential), {
            httpOnly: true,
            sameSite: 'strict',
            path: '/',
            secure: request.protocol === 'https',
            maxAge: Math.floor(sessions.ttlMs / 1000),
          })
          .redirect('/', 303);
      },
    );

    app.post('/logout', { schema: { summary: 'Sign out: clears the session cookie and redirects to /login', tags: ['session'], response: { 303: { description: 'signed out: to /login' }, ...problemResponses({ 403: 'from another site' }) } } }, async (request, reply) => {
      if (crossSite(request)) return crossSiteRefusal(reply, 'sign-out');
      return reply.clearCookie(SESSION_COOKIE, { httpOnly: true, sameSite: 'strict', path: '/', secure: request.protocol === 'https' }).redirect('/login', 303);
    });

    // How this page is signed in (the page hides "Sign out" when the dashboard runs open).
    app.get('/api/session', { schema: { summary: 'How this page is signed in (open, token; bearer or cookie; scopes)', tags: ['session'], security: [{ bearer: [] }] } }, async (request) => access(request).access);
  });
  return (request) => access(request).credential;
}
