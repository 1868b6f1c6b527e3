import { DEFAULT_MAX_FUTURE_SKEW_SECONDS, FEATURE_SET_VERSION, FeatureValues, FeatureVectorEvent, futureEventProblem, isEventTimestamp, news2FromSnapshotVitals, vectorAfterEvents, vectorFromSnapshot, type FeatureVectorEvent as FeatureVector } from '@ehr/features';
import { modelCard } from '@ehr/model';
import { createServiceApp, problemResponses, sendProblem, type Authenticator, type ServiceAppDeps } from '@ehr/runtime';
import { Type, type TSchema } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Challenger } from './challenger.js';
import type { DriftMonitor } from './drift.js';
import { ModelRejectedError, type ModelHolder } from './model-holder.js';
import { featureSetMismatch, news2Implausible, news2Refusal, scoreVector, unknownFeatureNames } from './scorer.js';

export interface ScoringAppDeps extends ServiceAppDeps {
  models: ModelHolder;
  drift: DriftMonitor;
  /** The silent challenger (CHALLENGER_MODEL_PATH), or null when none is configured. */
  challenger?: Challenger | null;
  /** Who may score (read scope) and swap models (admin scope: AUTH_ADMIN_TOKENS or SCORING_ADMIN_TOKEN). */
  auth: Authenticator;
  topK: number;
  bodyLimit: number;
  now?: () => Date;
}

/** Schemas for HTTP validation: plain JSON Schema copies without the message $ids. */
const plain = (schema: TSchema): TSchema => JSON.parse(JSON.stringify({ ...schema, $id: undefined })) as TSchema;

const Snapshot = Type.Object(
  {
    features: FeatureValues,
    patientId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    asOf: Type.Optional(Type.String({ format: 'date-time' })),
    context: Type.Optional(Type.Object({ unit: Type.Optional(Type.String({ maxLength: 64 })) })),
  },
  { additionalProperties: false, description: 'Named feature values (a patient snapshot); missing names count as missing values' },
);

const MAX_SNAPSHOT_EVENTS = 10_000;

const EventsSnapshot = Type.Object(
  {
    events: Type.Array(Type.Object({}, { additionalProperties: true }), {
      minItems: 1,
      maxItems: MAX_SNAPSHOT_EVENTS,
      description: "One patient's raw events (the project's own schema); they go through the feature service's own code",
    }),
  },
  { additionalProperties: false },
);

const ScoreRequest = Type.Union([plain(FeatureVectorEvent), Snapshot, EventsSnapshot], {
  description: "A feature_vector message, named feature values, or one patient's raw events",
});

/** The first event dated ahead of the clock (by more than the default skew), naming its index. */
function firstFutureEvent(events: readonly unknown[], now: Date): { error: string; issues: { path: string; message: string }[] } | null {
  for (let i = 0; i < events.length; i++) {
    const e = events[i] as { occurredAt?: unknown } | null;
    if (typeof e !== 'object' || e === null || typeof e.occurredAt !== 'string') continue;
    const problem = futureEventProblem(e.occurredAt, now.getTime(), DEFAULT_MAX_FUTURE_SKEW_SECONDS * 1000);
    if (problem) return { error: `events[${i}]: ${problem.error}`, issues: [{ path: `events/${i}/occurredAt`, message: problem.error }] };
  }
  return null;
}

/** The scoring service's HTTP face: health, metrics, the model, synchronous scoring. Never listens. */
export function buildApp(deps: ScoringAppDeps): FastifyInstance {
  const now = deps.now ?? (() => new Date());
  const app = createServiceApp({
    service: 'scoring',
    logger: deps.logger,
    metrics: deps.metrics,
    readiness: deps.readiness,
    bodyLimit: deps.bodyLimit,
    openapi: {
      title: 'EHR severity pipeline: scoring',
      description: 'Severity scores (Random Forest + NEWS2), the model, and model swaps. POST /score needs the read scope, POST /model/reload the admin scope (AUTH_ADMIN_TOKENS or SCORING_ADMIN_TOKEN).',
      tags: [
        { name: 'model', description: 'the model in use and swaps' },
        { name: 'scoring', description: 'synchronous scoring' },
      ],
    },
    ...(deps.http ? { http: deps.http } : {}),
  });

  const noChallenger = (reply: FastifyReply) =>
    sendProblem(reply, 404, { type: 'no-challenger', title: 'No challenger model', detail: 'no challenger is configured (CHALLENGER_MODEL_PATH)' });

  // After the OpenAPI generator (registered by createServiceApp) has loaded, so that it sees these.
  app.after(() => {
    app.get('/model', { schema: { summary: 'The model in use (or NEWS2-only mode), its metrics and features', tags: ['model'] } }, async () => {
      const m = deps.models.current;
      const challenger = deps.challenger?.report() ?? null;
      if (!m) return { loaded: false, mode: 'news2_only', error: deps.models.error, challenger };
      const a = m.artifact;
      const card = modelCard(a);
      return {
        loaded: true,
        mode: 'model',
        name: m.name,
        version: m.version,
        // What it learned from, in words: real patients or synthetic ones, which label.
        data: card.data,
        realData: card.data.source !== 'synthetic' && card.data.source !== 'unknown',
        label: card.label,
        alarm: card.alarm,
        bandBudget: card.bands?.budget ?? null,
        contentHash: m.contentHash,
        createdAt: a.createdAt,
        featureSchemaVersion: m.featureSchemaVersion,
        trees: m.nTrees,
        hyperparameters: a.hyperparameters,
        bands: m.bands,
        calibration: m.calibration.method,
        metrics: a.metrics,
        training: a.training,
        featureNames: m.featureNames,
        featureImportance: m.featureImportance().slice(0, 25),
        drift: deps.drift.latest(),
        lastError: deps.models.error,
        challenger,
      };
    });

    app.get(
      '/model/challenger/report',
      {
        schema: {
          summary: 'The served model and the silent challenger compared on the live stream (404 when no challenger is configured)',
          tags: ['model'],
          response: problemResponses({ 404: 'no challenger is configured (CHALLENGER_MODEL_PATH)' }),
        },
      },
      async (_request, reply) => {
        if (!deps.challenger) return noChallenger(reply);
        const m = deps.models.current;
        const { comparison, ...challenger } = deps.challenger.report();
        return {
          generatedAt: now().toISOString(),
          served: m ? { mode: 'model', name: m.name, version: m.version, card: modelCard(m.artifact) } : { mode: 'news2_only', name: null, version: null, card: null },
          challenger,
          comparison,
        };
      },
    );

    app.post(
      '/model/reload',
      {
        onRequest: deps.auth.require('admin'),
        schema: {
          summary: 'Load the artifact at MODEL_PATH again and swap it in (refused artifacts leave the current model serving)',
          description: 'Needs the admin scope.',
          tags: ['model'],
          security: [{ bearer: [] }],
          response: problemResponses({
            404: 'no artifact at MODEL_PATH: `serving` names the version still serving',
            422: 'the artifact was refused (`reasons`); `serving` names the version still serving',
          }),
        },
      },
      async (_request, reply) => {
        const previous = deps.models.current?.version ?? null;
        try {
          const m = await deps.models.reload();
          return { loaded: true, version: m.version, previous };
        } catch (err) {
          if (err instanceof ModelRejectedError) return sendProblem(reply, 422, { type: 'model-rejected', title: 'The model artifact was refused', detail: err.message, reasons: err.reasons, serving: previous });
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') return sendProblem(reply, 404, { type: 'model-missing', title: 'No model artifact', detail: 'no model artifact at MODEL_PATH', serving: previous });
          throw err;
        }
      },
    );

    app.post(
      '/model/challenger/reload',
      {
        onRequest: deps.auth.require('admin'),
        schema: {
          summary: 'Load the artifact at CHALLENGER_MODEL_PATH again (refused artifacts leave the current challenger in place)',
          description: 'Needs the admin scope.',
          tags: ['model'],
          security: [{ bearer: [] }],
          response: problemResponses({
            404: 'no challenger is configured, or no artifact at CHALLENGER_MODEL_PATH: `challenger` names the version still scoring',
            422: 'the artifact was refused (`reasons`); `challenger` names the version still scoring',
          }),
        },
      },
      async (_request, reply) => {
        const challenger = deps.challenger;
        if (!challenger) return noChallenger(reply);
        const previous = challenger.models.current?.version ?? null;
        try {
          const m = await challenger.models.reload();
          return { loaded: true, version: m.version, previous };
        } catch (err) {
          if (err instanceof ModelRejectedError) return sendProblem(reply, 422, { type: 'model-rejected', title: 'The model artifact was refused', detail: err.message, reasons: err.reasons, challenger: previous });
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') return sendProblem(reply, 404, { type: 'model-missing', title: 'No model artifact', detail: 'no model artifact at CHALLENGER_MODEL_PATH', challenger: previous });
          throw err;
        }
      },
    );

    app.post(
      '/score',
      {
        // Patient data in and a score out: the read scope, checked before the body is read.
        onRequest: deps.auth.require('read'),
        schema: {
          summary: 'Score one feature vector or snapshot synchronously (nothing is published)',
          description: 'Needs the read scope.',
          tags: ['scoring'],
          body: ScoreRequest,
          security: [{ bearer: [] }],
          response: problemResponses({ 422: 'the features cannot be scored: unknown names (`unknown`), a feature set mismatch (`issues`), a NEWS2 total or part out of its range, a total that is not the sum of its parts, or NEWS2 features that disagree with the vital signs given (`issues`), or events that featurize to nothing; an event, `asOf` or feature vector dated ahead of the clock (`future-event`)', 400: 'a body that is not one of the three forms, or an `asOf` that is not an event time (`invalid-as-of`)' }),
        },
      },
      async (request, reply) => {
        const body = request.body as FeatureVector | { features: Record<string, number | null>; asOf?: string } | { events: unknown[] };
        let vector: FeatureVector;
        if ('schema' in body) {
          // Dated ahead of the clock: what the feature service would never emit.
          const ahead = futureEventProblem(body.payload.asOf, now().getTime(), DEFAULT_MAX_FUTURE_SKEW_SECONDS * 1000) ?? futureEventProblem(body.occurredAt, now().getTime(), DEFAULT_MAX_FUTURE_SKEW_SECONDS * 1000);
          if (ahead) return sendProblem(reply, 422, { type: 'future-event', title: 'The feature vector is dated in the future', detail: ahead.error, issues: ahead.issues });
          // A name the model does not know would be scored as if it were missing: refuse, naming it.
          const mismatch = featureSetMismatch(body, deps.models.current?.featureSchemaVersion ?? FEATURE_SET_VERSION, { complete: false });
          if (mismatch) return sendProblem(reply, 422, { type: 'feature-set-mismatch', title: 'The feature vector does not match the served feature set', detail: mismatch.error, issues: mismatch.issues });
          vector = body;
        } else if ('events' in body) {
          // As the producer and the feature service refuse them: an event dated ahead of the clock.
          const ahead = firstFutureEvent(body.events, now());
          if (ahead) return sendProblem(reply, 422, { type: 'future-event', title: 'An event is dated in the future', detail: ahead.error, issues: ahead.issues });
          const built = await vectorAfterEvents(body.events, now());
          if ('error' in built) return sendProblem(reply, 422, { type: 'no-features', title: 'The events give no feature vector', detail: built.error });
          vector = built.vector;
        } else {
          // The score's event time: a time the contract takes (Ajv's date-time let 23:59:60, a
          // space for the T and year 0001 through), and not ahead of the clock.
          if (body.asOf !== undefined) {
            if (!isEventTimestamp(body.asOf)) return sendProblem(reply, 400, { type: 'invalid-as-of', title: 'asOf is not an event time', detail: `asOf ${JSON.stringify(body.asOf.slice(0, 40))} is not an RFC 3339 time with seconds and an offset on a real day (year 1900 or later)` });
            const ahead = futureEventProblem(body.asOf, now().getTime(), DEFAULT_MAX_FUTURE_SKEW_SECONDS * 1000);
            if (ahead) return sendProblem(reply, 422, { type: 'future-event', title: 'asOf is in the future', detail: ahead.error.replace(/^occurredAt/, 'asOf'), issues: [{ path: 'asOf', message: ahead.error.replace(/^occurredAt/, 'asOf') }] });
          }
          const unknown = unknownFeatureNames(body.features);
          if (unknown.length > 0) {
            return sendProblem(reply, 422, { type: 'unknown-features', title: 'Unknown feature names', detail: `unknown feature name(s): ${unknown.slice(0, 20).join(', ')}`, unknown: unknown.slice(0, 100) });
          }
          // NEWS2 from the snapshot's vital signs, as the feature service would have worked it out:
          // the served band's floor must not rest on a NEWS2 the vitals contradict, or on none.
          const news2 = news2FromSnapshotVitals(body.features);
          const contradicted = news2Refusal(news2.issues);
          if (contradicted) return sendProblem(reply, 422, { type: 'implausible-news2', title: 'The NEWS2 of the features is not a NEWS2', detail: contradicted.error, issues: contradicted.issues });
          vector = vectorFromSnapshot({ ...body, features: news2.features }, now());
        }
        const implausible = news2Implausible(vector);
        if (implausible) return sendProblem(reply, 422, { type: 'implausible-news2', title: 'The NEWS2 of the features is not a NEWS2', detail: implausible.error, issues: implausible.issues });
        const { score, inferenceMicros } = scoreVector(vector, deps.models.current, { topK: deps.topK, now });
        return { ...score.payload, inferenceMicros };
      },
    );
  });

  return app;
}
