// What GET /model shows about a model, in plain fields.
import type { ArtifactAlarm, ArtifactLabel, ModelArtifact } from './artifact/schema.js';

/** What GET /model shows about a model: name, version, data, label, alarm and bands, in plain fields. */
export interface ModelCard {
  name: string;
  version: string;
  createdAt: string;
  trees: number;
  features: number;
  featureSchemaVersion: string;
  data: { source: string; description: string; file: string | null; sha256: string | null; patients: number | null; rows: number };
  label: ArtifactLabel | null;
  alarm: ArtifactAlarm | null;
  bands: { medium: number; high: number; rule: string; budget: { medium: string; high: string } | null } | null;
  testMetrics: { auroc: number | null; auprc: number | null } | null;
}

export function modelCard(a: ModelArtifact): ModelCard {
  const test = a.metrics.test?.calibrated ?? a.metrics.test?.raw ?? null;
  return {
    name: a.name,
    version: a.version,
    createdAt: a.createdAt,
    trees: a.hyperparameters.nTrees,
    features: a.featureNames.length,
    featureSchemaVersion: a.featureSchemaVersion,
    data: a.provenance
      ? { source: a.provenance.source, description: a.provenance.description, file: a.provenance.file, sha256: a.provenance.sha256, patients: a.provenance.patients, rows: a.provenance.rows }
      : { source: 'unknown', description: 'not recorded (artifact written before provenance was kept)', file: null, sha256: null, patients: null, rows: a.training.rows },
    label: a.label ?? null,
    alarm: a.alarm ?? null,
    bands: a.bands ? { medium: a.bands.medium, high: a.bands.high, rule: a.bands.rule, budget: a.bandBudget ? { medium: a.bandBudget.medium, high: a.bandBudget.high } : null } : null,
    testMetrics: test ? { auroc: test.auroc, auprc: test.auprc } : null,
  };
}
