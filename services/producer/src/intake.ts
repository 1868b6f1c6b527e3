// What keeps intake answering under overload and outages. The Kafka producer waits out a
// broker restart by design (unlimited retries keep idempotence), so a request must not
// wait with it: each produce has a deadline, past which the client hears 503 with
// Retry-After while the produce itself carries on and may still land. The client's retry
// carries the same event ids, and the feature service drops the second copy. Requests held
// at once are bounded, counting produces that outlived their request, so an outage cannot
// pile up bodies in memory.
import type { Bus } from '@ehr/bus';
import type { RawEvent } from '@ehr/features';
import { Counter, errorMessage, Gauge, sendProblem, type DependencyStatus, type Logger, type Registry } from '@ehr/runtime';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { EventPublisher } from './publisher.js';

/** Seconds a client should wait before retrying after a 503 (the broker) or a 429 (too many requests). */
export const RETRY_AFTER_UNAVAILABLE_S = 2;
export const RETRY_AFTER_OVERLOADED_S = 1;

/** Intake cannot publish now: answered 503 with Retry-After (the error handler of @ehr/runtime reads `headers`). */
export class IntakeUnavailableError extends Error {
  readonly statusCode = 503;
  readonly headers = { 'retry-after': String(RETRY_AFTER_UNAVAILABLE_S) };
  constructor(message: string) {
    super(message);
    this.name = 'IntakeUnavailableError';
  }
}

/** One admitted request: free again once its answer is sent and every produce it started has settled. */
class Slot {
  private pending = 0;
  private answered = false;
  private freed = false;

  constructor(private readonly free: () => void) {}

  hold(work: Promise<unknown>): void {
    this.pending++;
    const settle = () => {
      this.pending--;
      this.release();
    };
    work.then(settle, settle);
  }

  answer(): void {
    this.answered = true;
    this.release();
  }

  private release(): void {
    if (this.freed || !this.answered || this.pending > 0) return;
    this.freed = true;
    this.free();
  }
}

export interface IntakeOptions {
  publisher: EventPublisher;
  bus: Pick<Bus, 'status'>;
  logger: Logger;
  metrics: Registry;
  timeoutMs: number;
  maxConcurrent: number;
  /** Readiness of intake: degraded while produces are past their deadline. */
  report: (status: DependencyStatus) => void;
}

export class Intake {
  private inFlight = 0;
  private stalled = 0;
  private readonly slots = new WeakMap<FastifyRequest, Slot>();
  private readonly refused: Counter;

  constructor(private readonly options: IntakeOptions) {
    const held = () => this.inFlight;
    new Gauge({
      name: 'ehr_producer_intake_in_flight',
      help: 'ingest requests held, including produces still unconfirmed after their request was answered',
      registers: [options.metrics],
      collect() {
        this.set(held());
      },
    });
    this.refused = new Counter({
      name: 'ehr_producer_intake_refused_total',
      help: 'ingest requests refused: overloaded (429), unavailable (503, broker not confirming), deadline (503, this request timed out)',
      labelNames: ['reason'],
      registers: [options.metrics],
    });
    options.report({ state: 'up', detail: `produce deadline ${options.timeoutMs} ms` });
  }

  /**
   * An onRequest hook for the intake routes (after authentication, before the body is
   * read): 429 with Retry-After past the bound.
   */
  admit = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (this.inFlight >= this.options.maxConcurrent) {
      this.refused.inc({ reason: 'overloaded' });
      await sendProblem(reply.header('retry-after', String(RETRY_AFTER_OVERLOADED_S)), 429, {
        type: 'intake-overloaded',
        title: 'Too many ingest requests in flight',
        detail: `${this.inFlight} ingest requests are in flight (at most ${this.options.maxConcurrent}): retry shortly`,
        retryAfterSeconds: RETRY_AFTER_OVERLOADED_S,
      });
      return;
    }
    this.inFlight++;
    const slot = new Slot(() => this.inFlight--);
    this.slots.set(request, slot);
    // 'close' fires once the answer is sent or the client went away, whichever comes first.
    reply.raw.once('close', () => slot.answer());
  };

  /** Publishes within the deadline, or throws IntakeUnavailableError; a late produce may still land. */
  async publish(request: FastifyRequest, events: readonly RawEvent[]): Promise<void> {
    if (events.length === 0) return;
    if (this.stalled > 0) {
      this.refused.inc({ reason: 'unavailable' });
      throw new IntakeUnavailableError('the broker has not confirmed earlier events yet: retry later with the same event ids');
    }
    const bus = this.options.bus.status();
    if (bus.state === 'down') {
      this.refused.inc({ reason: 'unavailable' });
      throw new IntakeUnavailableError(`the bus is down (${bus.detail ?? 'no detail'}): retry later with the same event ids`);
    }
    const produce = this.options.publisher.publish(events).then(
      () => 'published' as const,
      (err: unknown) => err,
    );
    this.slots.get(request)?.hold(produce);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'deadline'>((resolve) => {
      timer = setTimeout(() => resolve('deadline'), this.options.timeoutMs);
    });
    const outcome = await Promise.race([produce, deadline]);
    clearTimeout(timer);
    if (outcome === 'published') return;
    if (outcome === 'deadline') {
      this.stall(produce);
      this.refused.inc({ reason: 'deadline' });
      throw new IntakeUnavailableError(`the broker did not confirm within ${this.options.timeoutMs} ms: retry later with the same event ids (this request may still land; duplicates are dropped)`);
    }
    this.refused.inc({ reason: 'unavailable' });
    this.options.logger.error({ err: outcome }, 'publishing ingested events failed');
    throw new IntakeUnavailableError(`could not publish: ${errorMessage(outcome)}`);
  }

  /** Until a produce past its deadline settles, intake refuses at once and readiness says degraded. */
  private stall(produce: Promise<unknown>): void {
    this.stalled++;
    if (this.stalled === 1) {
      this.options.logger.warn({ timeoutMs: this.options.timeoutMs }, 'produce past its deadline: intake answers 503 until the broker confirms');
      this.options.report({ state: 'degraded', detail: `produce past its ${this.options.timeoutMs} ms deadline: the broker is slow or unreachable; intake answers 503` });
    }
    const settle = (outcome: unknown) => {
      this.stalled--;
      if (outcome !== 'published') this.options.logger.error({ err: outcome }, 'a produce past its deadline failed');
      if (this.stalled === 0) {
        this.options.logger.info('the broker confirms again: intake accepts events');
        this.options.report({ state: 'up', detail: `produce deadline ${this.options.timeoutMs} ms` });
      }
    };
    void produce.then(settle);
  }
}
