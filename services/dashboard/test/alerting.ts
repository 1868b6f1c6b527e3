// A real alerting service for the dashboard's alert tests (tests may use another service; the
// dashboard's own code never does): on the test's bus, listening on a free port, with a policy
// that raises on one score at or above 0.5 and escalates a high alert after 30 min, and a clock
// the test turns by hand.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAlertingService, loadConfig } from '@ehr/alerting';
import { MemoryBus, type MemoryBroker } from '@ehr/bus';
import { createLogger } from '@ehr/runtime';

export const TEST_POLICY = {
  name: 'dashboard-test',
  version: '1',
  description: 'one score at or above 0.5 raises; high alerts escalate after 30 min',
  deterioration: { signal: 'probability', enter: 0.5, exit: 0.4, persistence: 1, reAlert: { rise: null, withinHours: 0 }, news2Floor: null },
  budget: { perUnitPerDay: null, timeZone: 'UTC', highBypasses: true },
  escalation: { afterMinutes: 30, severities: ['high'] },
  overdue: { enabled: false, graceMinutes: 15, intervalHours: { news2Zero: 12, news2Low: 6, singleParameterThree: 1, news2Medium: 1, news2High: 1 } },
  staleAfterHours: 24,
};

export type TestAlerting = ReturnType<typeof createAlertingService> & { url: string; clock: { set(ms: number): void }; close(): Promise<void> };

/** On its own bus client of `broker` (stopping it closes only that client). */
export async function startAlerting(broker: MemoryBroker, env: Record<string, string>, startAt: number): Promise<TestAlerting> {
  const dir = mkdtempSync(join(tmpdir(), 'dashboard-alerting-'));
  const policyPath = join(dir, 'policy.json');
  writeFileSync(policyPath, JSON.stringify(TEST_POLICY));
  let t = startAt;
  const service = createAlertingService({
    config: loadConfig({ ALERTING_POLICY: policyPath, ALERTING_TICK_MS: '1000', ...env }),
    logger: createLogger({ service: 'alerting', level: 'silent' }),
    bus: new MemoryBus({ broker }),
    now: () => new Date(t),
    manualClock: true,
  });
  await service.start();
  await service.app.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(service.app.server.address() as { port: number }).port}`;
  return Object.assign(service, {
    url,
    clock: { set: (ms: number) => void (t = ms) },
    async close() {
      await service.app.close();
      await service.stop();
    },
  });
}
