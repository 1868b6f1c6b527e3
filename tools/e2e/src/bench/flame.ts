// A V8 CPU profile (what `node --cpu-prof` writes) as a flame graph SVG and a top list of
// self time. Written here rather than taken from npm: nothing maintained on the registry
// turns a .cpuprofile into an SVG offline. cpuprofile-to-flamegraph (1.0.0) is unmaintained
// and ships jest as a runtime dependency; 0x profiles with its own capture and writes HTML;
// @platformatic/flame and the d3 flame graphs render in a browser. Folded stacks (Brendan
// Gregg's format: `a;b;c count`) are the step between, so the SVG half also takes stacks
// from anywhere else.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber?: number };
  children?: number[];
}

export interface CpuProfile {
  nodes: CpuProfileNode[];
  startTime: number;
  endTime: number;
  /** The node each sample landed in. */
  samples: number[];
  /** Microseconds before each sample. */
  timeDeltas: number[];
}

/** V8's own nodes: no code of anybody's, kept as frames of their own. */
const IDLE = '(idle)';

/** `name file:line`, the file under node_modules or the repository said short. */
export function frameName(frame: CpuProfileNode['callFrame']): string {
  const name = frame.functionName || '(anonymous)';
  if (!frame.url) return name;
  let file = frame.url.replace(/^file:\/\//, '');
  const modules = file.lastIndexOf('/node_modules/');
  if (modules >= 0) file = file.slice(modules + '/node_modules/'.length);
  else file = file.replace(/^.*?\/(services|packages|apps|tools)\//, '$1/');
  // Separators of the folded format must not appear inside a frame.
  return `${name} ${file}:${frame.lineNumber + 1}`.replace(/[;\n]/g, '_');
}

/** Microseconds per stack (root first, `(root)` left out), from the profile's samples. */
export function foldProfile(profile: CpuProfile): Map<string, number> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const stackOf = new Map<number, string>();
  const stack = (id: number): string => {
    const known = stackOf.get(id);
    if (known !== undefined) return known;
    const frames: string[] = [];
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const node = byId.get(at);
      if (!node || node.callFrame.functionName === '(root)') break;
      frames.push(frameName(node.callFrame));
    }
    const folded = frames.reverse().join(';');
    stackOf.set(id, folded);
    return folded;
  };
  const folded = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    // V8 records the time since the previous sample with each one: that interval is spent
    // where the sample landed.
    const us = profile.timeDeltas[i] ?? 0;
    const key = stack(id);
    if (key !== '' && us > 0) folded.set(key, (folded.get(key) ?? 0) + us);
  });
  return folded;
}

/** Adds `more` into `into` (several profiles of one service: it was restarted). */
export function mergeFolded(into: Map<string, number>, more: Map<string, number>): Map<string, number> {
  for (const [stack, us] of more) into.set(stack, (into.get(stack) ?? 0) + us);
  return into;
}

export const foldedText = (folded: Map<string, number>): string =>
  [...folded].map(([stack, us]) => `${stack} ${Math.round(us)}`).join('\n') + '\n';

const leafOf = (stack: string) => stack.slice(stack.lastIndexOf(';') + 1);

/** The `n` frames with the most self time, `(idle)` left out (a service waiting is not its cost). */
export function topSelf(folded: Map<string, number>, n = 20): { frame: string; us: number; share: number }[] {
  const self = new Map<string, number>();
  let busy = 0;
  for (const [stack, us] of folded) {
    const leaf = leafOf(stack);
    if (leaf === IDLE) continue;
    busy += us;
    self.set(leaf, (self.get(leaf) ?? 0) + us);
  }
  return [...self]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, n)
    .map(([frame, us]) => ({ frame, us, share: busy > 0 ? us / busy : 0 }));
}

export function topText(title: string, folded: Map<string, number>, n = 20): string {
  const total = [...folded.values()].reduce((a, b) => a + b, 0);
  const idle = [...folded].filter(([s]) => leafOf(s) === IDLE).reduce((a, [, us]) => a + us, 0);
  const lines = [
    `${title}: top ${n} functions by self time; ${(total / 1000).toFixed(1)} ms profiled, ${((total - idle) / 1000).toFixed(1)} ms not idle (shares are of that)`,
    '',
    '   self ms   share  function',
  ];
  for (const t of topSelf(folded, n)) lines.push(`${(t.us / 1000).toFixed(1).padStart(10)}  ${(100 * t.share).toFixed(1).padStart(5)} %  ${t.frame}`);
  return `${lines.join('\n')}\n`;
}

interface Frame {
  name: string;
  us: number;
  children: Map<string, Frame>;
}

const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A warm colour from the frame's name: the same function has the same colour in every graph. */
function colour(name: string): string {
  let h = 0;
  for (let i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) >>> 0;
  if (name.startsWith('(')) return 'rgb(200,200,200)';
  const node = name.includes('node:') || !name.includes(' ');
  return node ? `rgb(${200 + (h % 55)},${80 + ((h >>> 8) % 60)},${60 + ((h >>> 16) % 40)})` : `rgb(${225 + (h % 30)},${120 + ((h >>> 8) % 100)},${20 + ((h >>> 16) % 40)})`;
}

/** Folded stacks as a flame graph: root at the bottom, width by time, a tooltip per frame. */
export function flameSvg(folded: Map<string, number>, title: string, width = 1200): string {
  const root: Frame = { name: 'all', us: 0, children: new Map() };
  for (const [stack, us] of folded) {
    root.us += us;
    let at = root;
    for (const name of stack.split(';')) {
      let next = at.children.get(name);
      if (!next) at.children.set(name, (next = { name, us: 0, children: new Map() }));
      next.us += us;
      at = next;
    }
  }
  const depthOf = (f: Frame): number => 1 + Math.max(0, ...[...f.children.values()].map(depthOf));
  const rowHeight = 16;
  const top = 40;
  const depth = depthOf(root);
  const height = top + depth * rowHeight + 10;
  const scale = root.us > 0 ? (width - 20) / root.us : 0;
  const rects: string[] = [];
  const draw = (f: Frame, x: number, level: number) => {
    const w = f.us * scale;
    if (w < 0.3) return; // narrower than a pixel's third: invisible, only weight in the file
    const y = height - 10 - (level + 1) * rowHeight;
    const label = `${f.name} (${(f.us / 1000).toFixed(1)} ms, ${((100 * f.us) / Math.max(1, root.us)).toFixed(1)} %)`;
    const chars = Math.floor((w - 6) / 7);
    const text = chars >= 3 ? `<text x="${(x + 3).toFixed(1)}" y="${y + 11}">${escapeXml(f.name.length > chars ? `${f.name.slice(0, chars - 2)}..` : f.name)}</text>` : '';
    rects.push(`<g><title>${escapeXml(label)}</title><rect x="${x.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${rowHeight - 1}" fill="${colour(f.name)}" rx="2"/>${text}</g>`);
    let childX = x;
    for (const child of [...f.children.values()].sort((a, b) => a.name.localeCompare(b.name))) {
      draw(child, childX, level + 1);
      childX += child.us * scale;
    }
  };
  draw(root, 10, 0);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="monospace" font-size="11">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15">${escapeXml(title)}</text>`,
    ...rects,
    '</svg>',
    '',
  ].join('\n');
}

/**
 * For each folder under `dir` (one per service, holding its .cpuprofile files): `<name>.svg`,
 * `<name>-top.txt` and `<name>.folded` next to the folder. Returns the names written.
 */
export function writeProfileReports(dir: string, topN = 20): string[] {
  const written: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const files = readdirSync(join(dir, entry.name)).filter((f) => f.endsWith('.cpuprofile'));
    if (files.length === 0) continue;
    const folded = new Map<string, number>();
    for (const file of files) mergeFolded(folded, foldProfile(JSON.parse(readFileSync(join(dir, entry.name, file), 'utf8')) as CpuProfile));
    writeFileSync(join(dir, `${entry.name}.folded`), foldedText(folded));
    writeFileSync(join(dir, `${entry.name}.svg`), flameSvg(folded, `${entry.name}: CPU flame graph (node --cpu-prof)`));
    writeFileSync(join(dir, `${entry.name}-top.txt`), topText(entry.name, folded, topN));
    written.push(entry.name);
  }
  return written.sort();
}
