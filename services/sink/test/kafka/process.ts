// The real sink process (`node dist/main.js`), started and killed like in production.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

export interface SinkProcess {
  child: ChildProcess;
  url: string;
  /** Everything it wrote (JSON logs), for failure messages. */
  output: () => string;
  metrics: () => Promise<string>;
  /** `/health/ready`: status code and body. */
  ready: () => Promise<{ code: number; status: string; dependencies: Record<string, { state: string; detail?: string }> }>;
  /** `ehr_sink_warehouse_offset` per `topic/partition`. */
  warehouseOffsets: () => Promise<Map<string, number>>;
  kill: (signal: NodeJS.Signals) => Promise<number | null>;
}

export async function startSink(env: Record<string, string>, timeoutMs = 60_000): Promise<SinkProcess> {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: build the sink first (npx turbo run build --filter=@ehr/sink)`);
  const child = spawn(process.execPath, [MAIN], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      SNOWFLAKE_DISABLE_PLATFORM_DETECTION: 'true',
      SF_TELEMETRY_DISABLE_CONNECTION_SHAPE: '1',
      PORT: '0',
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`sink did not become ready in ${timeoutMs} ms:\n${out.slice(-4000)}`)), timeoutMs);
    const check = () => {
      const m = /sink ready: (http:\/\/[^/\s"]+)\/health\/ready/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`sink exited with ${code} before it was ready:\n${out.slice(-4000)}`));
    });
  });
  const metrics = async () => (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
  return {
    child,
    url,
    output: () => out,
    metrics,
    ready: async () => {
      const res = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(5_000) });
      const body = (await res.json()) as { status: string; dependencies: Record<string, { state: string; detail?: string }> };
      return { code: res.status, ...body };
    },
    warehouseOffsets: async () => {
      const offsets = new Map<string, number>();
      for (const m of (await metrics()).matchAll(/^ehr_sink_warehouse_offset\{([^}]*)\} (-?\d+)/gm)) {
        const topic = /topic="([^"]*)"/.exec(m[1]!)?.[1];
        const partition = /partition="([^"]*)"/.exec(m[1]!)?.[1];
        offsets.set(`${topic}/${partition}`, Number(m[2]));
      }
      return offsets;
    },
    kill: async (signal) => {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      return exited;
    },
  };
}
