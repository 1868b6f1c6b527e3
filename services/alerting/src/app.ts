import type { AlertEngine, AlertPolicy, OpenAlertView } from '@ehr/alerts';
import { AlertActor, AlertKindSchema, compileValidator, DISMISS_REASONS, DismissReasonSchema, EventId, SeverityBand } from '@ehr/features';
import { createServiceApp, problemResponses, sendProblem, type Authenticator, type ServiceAppDeps } from '@ehr/runtime';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { AlertingProcessor, CommandResult } from './processor.js';

export interface AlertingAppDeps extends ServiceAppDeps {
  engine: AlertEngine;
  policy: AlertPolicy;
  processor: AlertingProcessor;
  bodyLimit: number;
  now: () => Date;
  /** Who may see and act on alerts (the read scope: the people who see the ward). */
  auth: Authenticator;
}

const OpenStatus = Type.Union([Type.Literal('open'), Type.Literal('acknowledged'), Type.Literal('escalated')]);

const AlertsQuery = Type.Object(
  {
    unit: Type.Optional(Type.String({ maxLength: 64, description: 'only this unit ("" for alerts with no unit)' })),
    kind: Type.Optional(AlertKindSchema),
    status: Type.Optional(OpenStatus),
    severity: Type.Optional(SeverityBand),
  },
  { additionalProperties: false },
);
type AlertsQuery = Static<typeof AlertsQuery>;

const AlertParams = Type.Object({ id: EventId }, { additionalProperties: false });
type AlertParams = Static<typeof AlertParams>;

// The bodies are optional for acknowledge, so they are checked here rather than by Fastify
// (which refuses an empty JSON body before any schema runs).
const AcknowledgeBody = Type.Object({ by: Type.Optional(AlertActor) }, { additionalProperties: false });
const DismissBody = Type.Object({ reason: DismissReasonSchema, by: Type.Optional(AlertActor) }, { additionalProperties: false });
const acknowledgeBody = compileValidator(AcknowledgeBody, 'acknowledge body');
const dismissBody = compileValidator(DismissBody, 'dismiss body');

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** An open alert as the dashboard reads it. */
function alertView(a: OpenAlertView) {
  return {
    alertId: a.alertId,
    patientId: a.patientId,
    encounterId: a.encounterId,
    kind: a.kind,
    severity: a.severity,
    status: a.status,
    unit: a.unit,
    raisedAt: iso(a.raisedAt)!,
    escalateAt: iso(a.escalateAt),
    escalatedAt: iso(a.escalatedAt),
    acknowledgedAt: iso(a.acknowledgedAt),
    acknowledgedBy: a.acknowledgedBy,
    reason: a.reason,
    scoreId: a.scoreId,
    probability: a.probability,
    news2: a.news2,
    overdue: a.overdue && { lastObservationAt: iso(a.overdue.lastObservationAt)!, dueAt: iso(a.overdue.dueAt)!, intervalHours: a.overdue.intervalHours },
    actions: { acknowledge: `/alerts/${a.alertId}/acknowledge`, dismiss: `/alerts/${a.alertId}/dismiss` },
  };
}

/** The alerting service's HTTP face: health, metrics, open alerts, acknowledge and dismiss. Never listens. */
export function buildApp(deps: AlertingAppDeps): FastifyInstance {
  const app = createServiceApp({
    service: 'alerting',
    logger: deps.logger,
    metrics: deps.metrics,
    readiness: deps.readiness,
    bodyLimit: deps.bodyLimit,
    openapi: {
      title: 'EHR severity pipeline: alerting',
      description: 'Open alerts (deterioration, overdue observations); acknowledge and dismiss them. Every /alerts route needs the read scope.',
      tags: [{ name: 'alerts', description: 'open alerts and the policy' }],
    },
    ...(deps.http ? { http: deps.http } : {}),
  });
  const reader = deps.auth.require('read');
  const { engine, policy } = deps;

  /** A command whose event could not be published changed nothing: the client may retry. */
  const attempt = async (run: () => Promise<CommandResult>): Promise<CommandResult | { kind: 'failed' }> => {
    try {
      return await run();
    } catch (err) {
      deps.logger.warn({ err }, 'alert command not published; nothing changed');
      return { kind: 'failed' };
    }
  };

  /** 200 with the event; 404 / 409 with what the alert is; 503 when it could not be published. */
  const answer = (reply: FastifyReply, result: CommandResult | { kind: 'failed' }) => {
    switch (result.kind) {
      case 'failed':
        return sendProblem(reply, 503, { type: 'alert-command-unpublished', title: 'The command could not be published', detail: 'the event could not be published; nothing changed, try again' });
      case 'applied':
      case 'unchanged':
        return reply.code(200).send({ event: result.event, unchanged: result.kind === 'unchanged', alert: engine.alert(result.event.payload.alertId) ? alertView(engine.alert(result.event.payload.alertId)!) : null });
      case 'not_found':
        return sendProblem(reply, 404, { type: 'alert-not-found', title: 'No such alert', detail: 'no open or recently closed alert with this id' });
      case 'closed':
        // `status` is the problem's HTTP status, so the alert's own status is `alertStatus`.
        return sendProblem(reply, 409, {
          type: 'alert-closed',
          title: 'The alert is already closed',
          detail: `the alert is already ${result.closed.status}`,
          alertStatus: result.closed.status,
          dismissReason: result.closed.dismissReason,
          resolveReason: result.closed.resolveReason,
          closedAt: iso(result.closed.closedAt),
        });
    }
  };

  const unavailable = (reply: FastifyReply) =>
    sendProblem(reply, 503, { type: 'alerting-not-ready', title: 'The alerting service is not ready', detail: 'the alerting service is not ready (restoring its state, or the bus is down); try again' });
  const secured = { security: [{ bearer: [] }] };
  const notReady = { 503: 'not ready: restoring its state, or the bus is down' };
  const commandErrors = problemResponses({
    400: 'the body is not valid (`issues`; for dismiss also the accepted `reasons`)',
    404: 'no open or recently closed alert with this id',
    409: 'the alert is already closed (`alertStatus`, `dismissReason`, `resolveReason`, `closedAt`)',
    ...notReady,
    503: 'not ready, or the command could not be published (nothing changed): try again',
  });
  const ready = async () => (await deps.readiness.report()).status !== 'not_ready';

  // After the OpenAPI generator (registered by createServiceApp) has loaded, so that it sees these.
  app.after(() => {
    app.get<{ Querystring: AlertsQuery }>(
      '/alerts',
      {
        onRequest: reader,
        schema: { summary: 'Open alerts (open, acknowledged, escalated), newest first, with the unit budgets of the day', tags: ['alerts'], querystring: AlertsQuery, ...secured, response: problemResponses(notReady) },
      },
      async (request, reply) => {
        if (!(await ready())) return unavailable(reply);
        const q = request.query;
        const unit = q.unit === undefined ? undefined : q.unit === '' ? null : q.unit;
        const alerts = engine
          .openAlerts()
          .filter((a) => (unit === undefined || a.unit === unit) && (!q.kind || a.kind === q.kind) && (!q.status || a.status === q.status) && (!q.severity || a.severity === q.severity))
          .map(alertView);
        return {
          asOf: deps.now().toISOString(),
          policy: { name: policy.name, version: policy.version },
          count: alerts.length,
          alerts,
          budgets: policy.budget.perUnitPerDay === null ? [] : engine.budget.entries().map((b) => ({ ...b, limit: policy.budget.perUnitPerDay })),
          dismissReasons: DISMISS_REASONS,
        };
      },
    );

    app.get<{ Params: AlertParams }>('/alerts/:id', { onRequest: reader, schema: { summary: 'One open alert', tags: ['alerts'], params: AlertParams, ...secured, response: problemResponses({ 404: 'no open alert with this id' }) } }, async (request, reply) => {
      const a = engine.alert(request.params.id);
      return a ? alertView(a) : sendProblem(reply, 404, { type: 'alert-not-found', title: 'No such alert', detail: 'no open alert with this id' });
    });

    app.post<{ Params: AlertParams }>(
      '/alerts/:id/acknowledge',
      { onRequest: reader, schema: { summary: 'Acknowledge an alert (optional body {"by": staff id}); it stops escalating and stays open until it resolves', tags: ['alerts'], params: AlertParams, ...secured, response: commandErrors } },
      async (request, reply) => {
        const body = request.body ?? {};
        const checked = acknowledgeBody.validate(body);
        if (!checked.ok) return sendProblem(reply, 400, { type: 'invalid-body', title: 'The body is not valid', detail: checked.error, issues: checked.issues });
        if (!(await ready())) return unavailable(reply);
        return answer(reply, await attempt(() => deps.processor.acknowledge(request.params.id, checked.value.by ?? null)));
      },
    );

    app.post<{ Params: AlertParams }>(
      '/alerts/:id/dismiss',
      { onRequest: reader, schema: { summary: `Dismiss an alert with a reason: one of ${DISMISS_REASONS.join(', ')} (body {"reason": …, "by"?: staff id})`, tags: ['alerts'], params: AlertParams, ...secured, response: commandErrors } },
      async (request, reply) => {
        const checked = dismissBody.validate(request.body ?? {});
        if (!checked.ok) return sendProblem(reply, 400, { type: 'invalid-body', title: 'The body is not valid', detail: checked.error, issues: checked.issues, reasons: DISMISS_REASONS });
        if (!(await ready())) return unavailable(reply);
        return answer(reply, await attempt(() => deps.processor.dismiss(request.params.id, checked.value.reason, checked.value.by ?? null)));
      },
    );

    app.get('/policy', { schema: { summary: 'The alert policy in use', tags: ['alerts'] } }, async () => policy);
  });

  return app;
}
