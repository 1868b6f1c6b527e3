// Every service of the pipeline, in flow order. The launcher, `npm run stack`, the compose
// checks and the configuration reference all loop over this list: a sixth service is one
// folder under services/ and one entry here.
import { manifest as alerting } from '@ehr/alerting';
import { manifest as dashboard } from '@ehr/dashboard';
import { manifest as feature } from '@ehr/feature';
import { manifest as producer } from '@ehr/producer';
import { manifest as scoring } from '@ehr/scoring';
import { manifest as sink } from '@ehr/sink';
import { TOPICS } from '@ehr/features';

export const SERVICES = [producer, feature, scoring, sink, alerting, dashboard] as const;

export type ServiceName = (typeof SERVICES)[number]['name'];
export type PipelineManifest = (typeof SERVICES)[number];

export const SERVICE_NAMES: readonly ServiceName[] = SERVICES.map((s) => s.name);

/** The stages events flow through, in order (the dashboard only watches). */
export const STAGES: readonly ServiceName[] = SERVICES.filter((s) => s.stage).map((s) => s.name);

export function isServiceName(name: string): name is ServiceName {
  return SERVICE_NAMES.some((n) => n === name);
}

export function manifestOf(name: ServiceName): PipelineManifest {
  const found = SERVICES.find((s) => s.name === name);
  if (!found) throw new Error(`unknown service '${name}'`);
  return found;
}

/** `npm start`'s variable for one service's port (each service alone reads PORT). */
export const portVariableOf = (name: string): string => `${name.toUpperCase()}_PORT`;

/**
 * What each consuming service reads whose work must not be lost, in the order a stop drains
 * them: a stop waits for each group to commit these to their end before it stops the
 * service, and keeps what is left for the next start. Alerting reads the scores too (a score
 * it has not read is a deterioration nobody was alerted to) and goes before the sink, which
 * lands its alert events; the sink also lands a challenger's shadow scores. (The dashboard
 * only shows: what it has not read is not lost.)
 */
export const STAGE_INPUTS: ReadonlyMap<string, readonly string[]> = new Map([
  ['feature', [TOPICS.events]],
  ['scoring', [TOPICS.features]],
  ['alerting', [TOPICS.scores]],
  ['sink', [TOPICS.scores, TOPICS.shadowScores, TOPICS.alerts, TOPICS.deadLetter]],
]);
