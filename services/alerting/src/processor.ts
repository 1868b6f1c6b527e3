// Scores in, alert events out; the clock and clinicians' commands go through the same
// door. Everything that changes the engine runs one at a time, and publishes before it
// counts as done: alert events to ehr.alerts.v1, then the changed patient states to the
// changelog. If publishing fails the engine is put back as it was, so a redelivered batch
// (or the next tick, or the client's retry) produces the same events with the same ids.
import { scoreInputOf, toAlertEvent, type AlertEngine, type AlertPolicy, type CommandOutcome, type EngineSnapshot, type Transition } from '@ehr/alerts';
import { RecordIsolation, type Bus, type OutgoingRecord, type RecordBatch } from '@ehr/bus';
import { buildDeadLetter, decodeSeverityScore, TOPICS, triage, type AlertEvent, type DeadLetter, type DismissReason } from '@ehr/features';
import { Counter, Gauge, Histogram, type Logger, type Registry } from '@ehr/runtime';
import { budgetRecord, evictedRecord, stateRecord } from './changelog.js';

export interface AlertingProcessorDeps {
  bus: Bus;
  logger: Logger;
  metrics: Registry;
  engine: AlertEngine;
  policy: AlertPolicy;
  now: () => Date;
  /**
   * A score whose applying throws fails its batch, counted against it; after 3 deliveries it
   * is dead-lettered as processing_error and the partition moves on (default: @ehr/bus's
   * RecordIsolation with 3 attempts).
   */
  isolation?: RecordIsolation;
  /** Patients held at most (ALERTING_MAX_PATIENTS); default unbounded. */
  maxPatients?: number;
}

export type CommandResult = { kind: 'applied' | 'unchanged'; event: AlertEvent } | Exclude<CommandOutcome, { kind: 'applied' | 'unchanged' }>;

export function createAlertingProcessor({ bus, logger, metrics, engine, policy, now, isolation = new RecordIsolation({ logger, metrics }), maxPatients = Infinity }: AlertingProcessorDeps) {
  const scores = new Counter({ name: 'ehr_alerting_scores_total', help: 'severity scores consumed, by outcome (applied, redelivered)', labelNames: ['outcome'], registers: [metrics] });
  const deadLetters = new Counter({ name: 'ehr_alerting_dead_letters_total', help: 'scores rejected, by reason', labelNames: ['reason'], registers: [metrics] });
  const events = new Counter({ name: 'ehr_alerting_alert_events_total', help: 'alert events published, by type, kind and severity', labelNames: ['type', 'kind', 'severity'], registers: [metrics] });
  const held = new Counter({ name: 'ehr_alerting_held_total', help: 'scores above the enter threshold that raised no alert, by reason (persistence, refractory, budget)', labelNames: ['reason'], registers: [metrics] });
  const tickFailures = new Counter({ name: 'ehr_alerting_tick_failures_total', help: "patients whose clock tick threw (their state left as it was; every other patient's went on)", registers: [metrics] });
  const closed = new Counter({ name: 'ehr_alerting_alerts_closed_total', help: 'alerts closed (resolved or dismissed), by kind and whether they had been acknowledged', labelNames: ['kind', 'acknowledged'], registers: [metrics] });
  const toAcknowledge = new Histogram({
    name: 'ehr_alerting_time_to_acknowledge_seconds',
    help: 'from an alert being raised to its acknowledgement, by kind and severity',
    labelNames: ['kind', 'severity'],
    buckets: [30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400],
    registers: [metrics],
  });
  const otherModel = new Counter({ name: 'ehr_alerting_scores_other_model_total', help: "model scores from another model than the one the policy's probability thresholds were tuned for (policy.tunedFor): their enter and exit mean something else", registers: [metrics] });
  const warnedModels = new Set<string>();
  /**
   * A probability threshold is a probability of one model: scores of another are alerted on
   * thresholds that mean something else (npm start serves a 3,000-stay default, the shipped
   * policy was tuned for the full model). Said once per model (a few; the name comes from a
   * message, so the set is capped), and counted.
   */
  function checkModel(score: { mode: string; model: { name: string; version: string } | null }): void {
    const tuned = policy.tunedFor;
    if (!tuned || policy.deterioration.signal !== 'probability' || score.mode !== 'model' || !score.model) return;
    if (score.model.name === tuned.name && score.model.version === tuned.version) return;
    otherModel.inc();
    const key = `${score.model.name}@${score.model.version}`;
    if (warnedModels.has(key) || warnedModels.size >= 16) return;
    warnedModels.add(key);
    logger.warn(
      { policy: `${policy.name}@${policy.version}`, tunedFor: `${tuned.name}@${tuned.version}`, scoredBy: key },
      'the alert policy\'s probability thresholds were tuned for another model than the one scoring: re-tune it for this model (npm run alerts:replay -- --tune) or serve the model it was tuned for',
    );
  }
  const capped = new Counter({ name: 'ehr_alerting_capped_patients_total', help: 'patients without an open alert let go past ALERTING_MAX_PATIENTS (their next score starts afresh)', registers: [metrics] });
  let capWarnedAt = 0;
  let closedTotal = 0;
  let closedAcknowledged = 0;
  new Gauge({
    name: 'ehr_alerting_acknowledged_ratio',
    help: 'share of the alerts closed since start that had been acknowledged first',
    registers: [metrics],
    collect() {
      this.set(closedTotal === 0 ? 0 : closedAcknowledged / closedTotal);
    },
  });
  new Gauge({
    name: 'ehr_alerting_open_alerts',
    help: 'open alerts, by kind, severity and status',
    labelNames: ['kind', 'severity', 'status'],
    registers: [metrics],
    collect() {
      this.reset();
      for (const a of engine.openAlerts()) this.inc({ kind: a.kind, severity: a.severity, status: a.status });
    },
  });
  new Gauge({
    name: 'ehr_alerting_patients',
    help: 'patients with alert state',
    registers: [metrics],
    collect() {
      this.set(engine.patients);
    },
  });

  let queue: Promise<unknown> = Promise.resolve();
  /** One change at a time: a batch, a tick or a command never interleaves with another. */
  function exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = queue.then(work, work);
    queue = run.catch(() => undefined);
    return run;
  }

  function count(transitions: readonly Transition[]): void {
    for (const t of transitions) {
      events.inc({ type: t.type, kind: t.kind, severity: t.severity });
      if (t.type === 'acknowledged' && t.secondsToAcknowledge !== null) toAcknowledge.observe({ kind: t.kind, severity: t.severity }, t.secondsToAcknowledge);
      if (t.type === 'resolved' || t.type === 'dismissed') {
        closed.inc({ kind: t.kind, acknowledged: String(t.acknowledged) });
        closedTotal++;
        if (t.acknowledged) closedAcknowledged++;
      }
    }
  }

  /**
   * Alert events first, then the state that already includes them; rolls the engine back if
   * building or writing either fails (a throw left outside would keep the applied offset, and
   * the redelivered batch would be skipped with its events never published).
   */
  async function publish(transitions: readonly Transition[], changed: Iterable<string>, evicted: readonly string[], before: EngineSnapshot, budgetChanged: boolean): Promise<AlertEvent[]> {
    let alertEvents: AlertEvent[];
    try {
      const produced = now();
      alertEvents = transitions.map((t) => toAlertEvent(t, policy, produced));
      const state: OutgoingRecord[] = [];
      for (const id of new Set(changed)) {
        const s = engine.state(id);
        state.push(s ? stateRecord(s) : evictedRecord(id));
      }
      for (const id of evicted) state.push(evictedRecord(id));
      if (budgetChanged) for (const use of engine.budget.entries()) state.push(budgetRecord(use));
      if (alertEvents.length > 0) await bus.produce(TOPICS.alerts, alertEvents.map((e) => ({ key: e.patientId, value: JSON.stringify(e) })));
      if (state.length > 0) await bus.produce(TOPICS.alertState, state);
    } catch (err) {
      engine.rollback(before);
      throw err;
    }
    count(transitions);
    return alertEvents;
  }

  /**
   * Past the cap, lets the quietest patients go (a stream of new patient ids must not grow the
   * state, and every tick's walk over it, without end). They join `before`, so a failed
   * publish puts them back with the rest; the changelog forgets them with the batch.
   */
  function overCap(before: EngineSnapshot): string[] {
    const letGo = engine.overCap(maxPatients);
    if (letGo.length === 0) return [];
    for (const [id, state] of engine.snapshot(letGo).states) if (!before.states.has(id)) before.states.set(id, state);
    engine.forget(letGo);
    if (Date.now() - capWarnedAt > 60_000) {
      capWarnedAt = Date.now();
      logger.warn({ maxPatients, held: engine.patients, letGo: letGo.length }, 'the patient cap (ALERTING_MAX_PATIENTS) bites: the least recently scored patients without an open alert were let go');
    }
    return letGo;
  }

  const raisesDeterioration = (ts: readonly Transition[]) => ts.some((t) => t.type === 'raised' && t.kind === 'deterioration');

  return {
    /** A batch of scores: applied in order, published, then (on return) committed by the bus. */
    handle(batch: RecordBatch): Promise<void> {
      return exclusive(async () => {
        const { accepted, rejected } = triage(batch.records, decodeSeverityScore, 'alerting', now());
        const letters: DeadLetter[] = [...rejected];
        const before = engine.snapshot(accepted.map((a) => a.value.patientId));
        const transitions: Transition[] = [];
        const changed = new Set<string>();
        const counted: { applied: boolean; held: string | null }[] = [];
        try {
          for (const { record, value } of accepted) {
            checkModel(value.payload);
            const verdict = isolation.verdict(record);
            if (verdict.isolate) {
              letters.push(buildDeadLetter(record, { service: 'alerting', reason: 'processing_error', error: `threw on each of ${verdict.attempts} attempts: ${verdict.error}`, patientId: value.patientId, originalEventId: value.eventId }));
              continue;
            }
            const r = isolation.run(record, () => engine.applyScore(scoreInputOf(value), { partition: record.partition, offset: record.offset }));
            counted.push({ applied: r.applied, held: r.held });
            if (!r.applied) continue;
            changed.add(value.patientId);
            transitions.push(...r.transitions);
          }
        } catch (err) {
          // The scores before the one that threw were applied: put them back, or the redelivery
          // would skip them as already applied and their alert events would never be published.
          engine.rollback(before);
          throw err;
        }
        if (letters.length > 0) {
          try {
            await bus.produce(TOPICS.deadLetter, letters.map((d) => ({ key: d.patientId ?? 'unknown', value: JSON.stringify(d) })));
          } catch (err) {
            engine.rollback(before);
            throw err;
          }
          for (const d of letters) deadLetters.inc({ reason: d.reason });
          logger.warn({ count: letters.length, topic: batch.topic, partition: batch.partition }, 'dead-lettered scores');
        }
        if (changed.size > 0) {
          const letGo = overCap(before);
          await publish(transitions, changed, letGo, before, raisesDeterioration(transitions));
          capped.inc(letGo.length);
        }
        isolation.settled(batch.records);
        for (const c of counted) {
          scores.inc({ outcome: c.applied ? 'applied' : 'redelivered' });
          if (c.applied && c.held) held.inc({ reason: c.held });
        }
      });
    },

    /** The clock: escalations, overdue observations (only once caught up with the scores), patients who left. */
    tick(options: { overdue: boolean }): Promise<AlertEvent[]> {
      return exclusive(async () => {
        const before = engine.snapshot(engine.patientIds());
        const r = engine.tick(now().getTime(), options);
        if (r.failed && r.failed.length > 0) {
          tickFailures.inc(r.failed.length);
          const first = r.failed[0]!.error;
          logger.error({ patients: r.failed.length, error: first instanceof Error ? first.message : String(first) }, 'the clock could not tick some patients; their alerts stay as they were');
        }
        if (r.changed.length === 0 && r.evicted.length === 0) return [];
        return publish(r.transitions, r.changed, r.evicted, before, false);
      });
    },

    acknowledge(alertId: string, actor: string | null): Promise<CommandResult> {
      return exclusive(() => command(alertId, () => engine.acknowledge(alertId, now().getTime(), actor)));
    },

    dismiss(alertId: string, reason: DismissReason, actor: string | null): Promise<CommandResult> {
      return exclusive(() => command(alertId, () => engine.dismiss(alertId, reason, now().getTime(), actor)));
    },
  };

  async function command(alertId: string, apply: () => CommandOutcome): Promise<CommandResult> {
    const patientId = engine.patientOf(alertId);
    const before = engine.snapshot(patientId === undefined ? [] : [patientId]);
    const outcome = apply();
    if (outcome.kind === 'unchanged') return { kind: 'unchanged', event: toAlertEvent(outcome.transition, policy, now()) };
    if (outcome.kind !== 'applied') return outcome;
    const [event] = await publish([outcome.transition], [outcome.state.patientId], [], before, false);
    return { kind: 'applied', event: event! };
  }
}

export type AlertingProcessor = ReturnType<typeof createAlertingProcessor>;
