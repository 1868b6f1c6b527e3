// What every real-broker test of this package does at the end of a run: the pipeline
// drained, every service ready, the warehouse read, every raw record accounted for, and
// no patient id, encounter id or secret in any line any service printed.
import { rmSync } from 'node:fs';
import type {} from '@ehr/kafka-local/vitest';
import { beforeAll, expect } from 'vitest';
import { account, summarize, type Accounting } from '../../src/accounting.js';
import { findLeaks, idNeedles, secretNeedles } from '../../src/log-safety.js';
import { ensureModel } from '../../src/model.js';
import type { PipelineRun } from '../../src/pipeline.js';
import { readWarehouse, type WarehouseContents } from '../../src/warehouse.js';
import { TOPICS } from '@ehr/features';

export const say = (line: string) => process.stdout.write(`[e2e] ${line}\n`);

/** The model every run scores with, made (or found made) before the suite's first test. */
export function testModelBeforeAll(): { readonly path: string } {
  const model = { path: '' };
  beforeAll(async () => {
    model.path = await ensureModel(undefined, say);
  });
  return model;
}

/** Every phase of a run's end has its own deadline, so a hang names the phase instead of timing out the test. */
async function phase<T>(name: string, ms: number, work: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${name}: not done after ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([work(), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Every service answers 200 on /health/ready (ready, or degraded with a reason). */
export async function expectAllReady(run: PipelineRun): Promise<void> {
  const readiness = await run.stack.readiness();
  for (const { name: service } of run.stack.instances) {
    const r = readiness[service];
    expect(r?.status, `${service} readiness: ${JSON.stringify(r?.body)}`).toBe(200);
    expect(['ready', 'degraded'], `${service}: ${JSON.stringify(r?.body)}`).toContain((r?.body as { status?: string }).status);
  }
}

export interface Finish {
  accounting: Accounting;
  warehouse: WarehouseContents;
}

/**
 * Drains the run, checks readiness, stops the services, reads the warehouse (`read`: the
 * DuckDB file by default) and accounts for every raw record. Also the log-safety check.
 */
export async function finishRun(
  run: PipelineRun,
  options: {
    drainMs?: number;
    patients: Iterable<{ patientId: string; encounterId: string | null }>;
    read?: () => Promise<WarehouseContents>;
    /** Runs after the drain, while the services still run (metrics, HTTP checks). */
    beforeStop?: () => Promise<void>;
  },
): Promise<Finish> {
  const started = Date.now();
  try {
    await run.drain(options.drainMs ?? 180_000, say);
  } catch (error) {
    // What the services said last (their logs carry no ids or secrets: that is tested).
    for (const { name: service } of run.stack.instances) {
      const lines = run.logs.filter((l) => l.instance === service).slice(-15);
      say(`--- ${service}, last ${lines.length} lines ---\n${lines.map((l) => l.line.slice(0, 600)).join('\n')}`);
    }
    throw error;
  }
  say(`drained in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  await phase('readiness after the drain', 30_000, () => expectAllReady(run));
  await phase('checks before stopping', 120_000, async () => options.beforeStop?.());
  expect(run.unexpectedExits, 'no service exited on its own').toEqual([]);
  const records = [...run.observer.records];
  const reports = await phase('stopping the services', 90_000, () => run.stop({ cleanup: false }));
  try {
    expect(reports.map((r) => [r.instance, r.code, r.forced]), 'every service stops cleanly on SIGTERM').toEqual(
      run.stack.instances.map((s) => [s.name, 0, false]),
    );
    const warehouse = await phase('reading the warehouse', 60_000, () => (options.read ? options.read() : readWarehouse(run.duckdbPath!)));
    const accounting = account(records, warehouse.scores, warehouse.deadLetters, { eventsTopics: [TOPICS.events, `${run.prefix}${TOPICS.events}`] });
    say(summarize(accounting));
    expect(accounting.problems, summarize(accounting)).toEqual([]);
    expect(accounting.scored + accounting.deadLettered + accounting.duplicates).toBe(accounting.published);
    expectNoLeaks(run, options.patients);
    return { accounting, warehouse };
  } finally {
    rmSync(run.dir, { recursive: true, force: true });
  }
}

/** No line any service printed contains a patient id, an encounter id or a configured secret. */
export function expectNoLeaks(run: PipelineRun, patients: Iterable<{ patientId: string; encounterId: string | null }>): void {
  const leaks = findLeaks(run.logs, [...idNeedles(patients), ...secretNeedles(run.secrets)]);
  expect(leaks, `${leaks.length} log lines carry an identifier or a secret`).toEqual([]);
  expect(run.logs.length, 'the services printed something (the capture works)').toBeGreaterThan(0);
}
