// Compose port mappings: the short syntax `[HOST_IP:][HOST_PORT[-END]:]CONTAINER_PORT[-END][/PROTOCOL]`
// (a bare container port publishes on an ephemeral host port) and the long syntax.

export interface PortSpec {
  hostIp: string | null;
  /** Host port range, or null for an ephemeral port chosen by Docker. */
  host: { start: number; end: number } | null;
  container: { start: number; end: number };
  protocol: string;
}

const RANGE = /^(\d{1,5})(?:-(\d{1,5}))?$/;

function range(text: string): { start: number; end: number } | null {
  const m = RANGE.exec(text);
  if (!m) return null;
  const start = Number(m[1]);
  const end = m[2] === undefined ? start : Number(m[2]);
  return start >= 1 && end <= 65_535 && start <= end ? { start, end } : null;
}

export function parsePortSpec(spec: string | number): PortSpec | null {
  let text = String(spec).trim();
  let protocol = 'tcp';
  const slash = text.lastIndexOf('/');
  if (slash >= 0) {
    protocol = text.slice(slash + 1);
    text = text.slice(0, slash);
    if (!/^(tcp|udp|sctp)$/.test(protocol)) return null;
  }
  let hostIp: string | null = null;
  const v6 = /^\[([0-9a-fA-F:.]+)\]:(.*)$/.exec(text);
  if (v6) {
    hostIp = v6[1]!;
    text = v6[2]!;
  }
  const parts = text.split(':');
  if (!v6 && parts.length === 3) hostIp = parts.shift()!;
  if (parts.length > 2 || (v6 && parts.length !== 2)) return null;
  const containerText = parts.at(-1)!;
  const hostText = parts.length === 2 ? parts[0]! : '';
  const container = range(containerText);
  if (!container) return null;
  if (hostText === '') return { hostIp, host: null, container, protocol };
  const host = range(hostText);
  if (!host) return null;
  // A host range maps onto an equal container range, or onto a single container port (one is picked).
  const width = (r: { start: number; end: number }) => r.end - r.start;
  if (width(container) !== 0 && width(host) !== width(container)) return null;
  return { hostIp, host, container, protocol };
}

/** Fixed host ports a mapping publishes; [] when Docker picks them; null when it cannot be read. */
export function publishedPorts(
  port: string | number | { target?: number; published?: number | string; host_ip?: string; protocol?: string },
): { port: number; protocol: string }[] | null {
  let host: { start: number; end: number } | null;
  let protocol: string;
  if (typeof port === 'object') {
    protocol = port.protocol ?? 'tcp';
    if (port.published === undefined || port.published === '') return [];
    host = range(String(port.published));
    if (!host) return null;
  } else {
    const spec = parsePortSpec(port);
    if (!spec) return null;
    // A bare number is a container port: published on an ephemeral host port.
    if (typeof port === 'number') return [];
    host = spec.host;
    protocol = spec.protocol;
  }
  if (!host) return [];
  const out: { port: number; protocol: string }[] = [];
  for (let p = host.start; p <= host.end; p++) out.push({ port: p, protocol });
  return out;
}
