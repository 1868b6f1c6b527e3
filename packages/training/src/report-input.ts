// What the event-row reports (training, external evaluation, cross-validation) say about the
// model and the data, built one way for all three.
import type { ModelArtifact, SeverityModel } from '@ehr/model';
import type { Dataset } from './dataset.js';
import type { ReportInput, SplitSummary } from './report.js';

export function reportModel(artifact: ModelArtifact, model: SeverityModel): ReportInput['model'] {
  const { bands } = artifact;
  return {
    name: artifact.name,
    version: artifact.version,
    contentHash: artifact.contentHash,
    createdAt: artifact.createdAt,
    featureSchemaVersion: artifact.featureSchemaVersion,
    features: artifact.featureNames.length,
    seed: artifact.seed,
    hyperparameters: { ...artifact.hyperparameters },
    calibration: artifact.calibration.method,
    bands: bands ? { rule: bands.rule, medium: bands.medium, high: bands.high, targets: bands.targets } : null,
    importance: model.featureImportance(),
  };
}

export function reportData(data: Dataset, splits: SplitSummary[]): ReportInput['data'] {
  return { source: data.sourceDescription, label: data.labelDescription, splits, events: data.stats.events, vectors: data.stats.vectors, rejected: data.stats.rejected, unlabelled: data.stats.unlabelled };
}

export function featuresTiming(data: Dataset): { label: string; seconds: number } {
  return { label: `features (${data.stats.events} events → ${data.rows} rows)`, seconds: data.stats.seconds };
}

/** A note for small evaluations: the intervals matter more than the point estimates. */
export function fewPatientsNote(patients: number, withEvent: number, below: number): string[] {
  return patients < below ? [`Only ${patients} patients (${withEvent} with an event): read the bootstrap intervals, not the point estimates.`] : [];
}
