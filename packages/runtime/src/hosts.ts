// Which Host headers a service answers to. A web page can point its own domain name at
// 127.0.0.1 (DNS rebinding) and then talk to a service on this machine as if it were its
// own origin; the browser still sends the page's name in `Host`, so refusing unknown names
// closes that door. IP addresses are always accepted: rebinding needs a name.
import { isIP } from 'node:net';

export class HostAllowList {
  private readonly exact = new Set<string>();
  private readonly suffixes: string[] = [];

  /** `names` as ALLOWED_HOSTS gives them: `api.example.org`, or `.example.org` for the domain and its subdomains. */
  constructor(names: readonly string[] = []) {
    for (const raw of names) {
      const name = normalise(raw);
      if (name === '') continue;
      if (name.startsWith('.')) {
        this.suffixes.push(name);
        this.exact.add(name.slice(1));
      } else this.exact.add(name);
    }
  }

  static fromList(text: string | undefined): HostAllowList {
    return new HostAllowList((text ?? '').split(','));
  }

  /** The names it answers to besides localhost and IP addresses. */
  get names(): string[] {
    return [...this.exact];
  }

  /** True for a Host header (name[:port]) this service answers to. */
  allows(hostHeader: string): boolean {
    // No Host at all is an HTTP/1.0 client (Node refuses HTTP/1.1 without one): not a browser.
    if (hostHeader === '') return true;
    const name = hostnameOf(hostHeader);
    if (name === null) return false;
    if (isIP(name) !== 0) return true;
    if (name === 'localhost' || name.endsWith('.localhost')) return true;
    return this.exact.has(name) || this.suffixes.some((suffix) => name.endsWith(suffix));
  }
}

const normalise = (name: string) => name.trim().toLowerCase().replace(/\.$/, '');

/** `Example.org:3000` → `example.org`; `[::1]:3000` → `::1`; null when it cannot be a host. */
export function hostnameOf(hostHeader: string): string | null {
  if (hostHeader.startsWith('[')) {
    const end = hostHeader.indexOf(']');
    return end > 1 ? hostHeader.slice(1, end).toLowerCase() : null;
  }
  const colon = hostHeader.indexOf(':');
  const name = normalise(colon >= 0 ? hostHeader.slice(0, colon) : hostHeader);
  return name === '' || /[^a-z0-9.-]/.test(name) ? null : name;
}

/** Loopback: only this machine can reach a server bound there. */
export function isLoopbackHost(host: string): boolean {
  const name = host.trim().toLowerCase().replace(/^\[|\]$/g, '');
  return name === 'localhost' || name === '::1' || /^127(\.\d{1,3}){3}$/.test(name);
}
