// The one fit every pipeline shares (synthetic and cohort CSVs, MEDS, PhysioNet, each fold of
// a cross-validation): the patient split and what each part holds, the forest grown on the
// train rows with calibration and band thresholds fitted on the validation rows
// (trainSeverityModel), and the artifact completed with what only the pipeline knows (its
// data, its label, its alarm) plus the patients it saw. A pipeline is then only its data,
// its label and its evaluation.
import { performance } from 'node:perf_hooks';
import {
  modelFromArtifact,
  seenPatientsOf,
  trainSeverityModel,
  withArtifactFields,
  type ArtifactProvenance,
  type BandRule,
  type CalibrationMethod,
  type ForestOptions,
  type ModelArtifact,
  type SeverityModel,
  type TrainedModel,
} from '@ehr/model';
import { denseRows, labelsOf, type DenseRows } from './rows.js';
import { splitByParts, splitByPatient, type PatientSplit, type SplitFractions } from './split.js';

export const DEFAULT_MODEL_NAME = 'severity-rf';

export type ForestSettings = Pick<ForestOptions, 'nTrees' | 'maxDepth' | 'maxFeatures' | 'minSamplesLeaf' | 'minSamplesSplit' | 'maxBins' | 'classWeight' | 'balancedBootstrap' | 'maxSamples' | 'workers'>;

/** Progress callbacks (the CLI draws bars; npm start prints lines). */
export interface TrainingProgress {
  stage?: (name: string) => void;
  events?: (done: number, total: number | null) => void;
  /** PhysioNet: stays featurized. */
  stays?: (done: number, total: number) => void;
  trees?: (done: number, total: number) => void;
  /** A warning about the data (MEDS rows skipped, with the reason). */
  warn?: (message: string) => void;
}

export type Timings = { label: string; seconds: number }[];

export const secondsSince = (t0: number): number => (performance.now() - t0) / 1000;

/** What the fit needs of a data set: rows (row-major, NaN = missing), labels and each row's patient. */
export interface LabelledRows {
  X: Float32Array | Float64Array;
  cols: number;
  y: Uint8Array;
  patientOf: Uint32Array;
  /** Patient ids, indexed by patientOf. */
  patients: readonly string[];
  featureNames: readonly string[];
  featureSetVersion: string;
}

/** One part of the patient split. */
export interface SplitPart {
  name: 'train' | 'validation' | 'test';
  rows: number;
  patients: number;
  positives: number;
  /** Patients with at least one positive row. */
  eventPatients: number;
}

/** The seeded patient split (or the one `part` gives, 0 train, 1 validation, 2 test per patient) and a summary of each part. */
export function splitPatients(data: LabelledRows, fractions: SplitFractions, seed: number, part?: ArrayLike<number>): { split: PatientSplit; parts: SplitPart[] } {
  const split = part ? splitByParts(data.patientOf, part) : splitByPatient(data.patientOf, data.y, data.patients.length, fractions, seed);
  const parts = (['train', 'validation', 'test'] as const).map((name): SplitPart => {
    const rows = split[name];
    let positives = 0;
    const events = new Set<number>();
    for (const i of rows) {
      positives += data.y[i]!;
      if (data.y[i] === 1) events.add(data.patientOf[i]!);
    }
    return { name, rows: rows.length, patients: split.patients[name].length, positives, eventPatients: events.size };
  });
  return { split, parts };
}

export interface FitInput {
  name: string;
  data: LabelledRows;
  /** Row indices: the forest grows on `train`; calibration and bands are fitted on `validation`; `test`, when given, is scored into the artifact's metrics. */
  rows: { train: ArrayLike<number>; validation: ArrayLike<number>; test?: ArrayLike<number> };
  forest: ForestSettings;
  seed: number;
  calibration?: CalibrationMethod;
  /** Isotonic calibration without ties at the top (real data). */
  strictCalibration?: boolean;
  /** Band rule; undefined = the model's default, null = none. */
  bands?: BandRule | null;
  createdAt?: string;
  progress?: TrainingProgress;
}

export interface Fit {
  trained: TrainedModel;
  train: DenseRows;
  validation: DenseRows;
  validationY: Uint8Array;
}

/** Grows the forest on the train rows, calibrated and banded on the validation rows. */
export async function fitModel(input: FitInput): Promise<Fit> {
  const { data, rows, progress } = input;
  const train = denseRows(data.X, data.cols, rows.train);
  const validation = denseRows(data.X, data.cols, rows.validation);
  const validationY = labelsOf(data.y, rows.validation);
  const trained = await trainSeverityModel({
    name: input.name,
    X: train,
    y: labelsOf(data.y, rows.train),
    featureNames: data.featureNames,
    featureSchemaVersion: data.featureSetVersion,
    forest: { ...input.forest, ...(progress?.trees ? { onProgress: progress.trees } : {}) },
    seed: input.seed,
    validation: { X: validation, y: validationY },
    ...(rows.test ? { test: { X: denseRows(data.X, data.cols, rows.test), y: labelsOf(data.y, rows.test) } } : {}),
    ...(input.calibration ? { calibration: input.calibration } : {}),
    ...(input.strictCalibration ? { strictCalibration: true } : {}),
    ...(input.bands !== undefined ? { bands: input.bands } : {}),
    ...(input.createdAt ? { createdAt: input.createdAt } : {}),
  });
  return { trained, train, validation, validationY };
}

/** What only the pipeline knows about its model: where the data came from, what the label means, its alarm. */
export type PipelineFields = { provenance: Omit<ArtifactProvenance, 'split'> | ArtifactProvenance; label: NonNullable<ModelArtifact['label']> } & Partial<Pick<ModelArtifact, 'alarm' | 'bandBudget'>>;

/**
 * The artifact with the pipeline's fields, its split and the patients it was trained or
 * calibrated on, with `choicePatients` (those another choice was made on: a subset's full
 * split), so an evaluation can leave them all out.
 */
export function completeArtifact(artifact: ModelArtifact, fields: PipelineFields, data: Pick<LabelledRows, 'patients'>, split: PatientSplit, seed: number, choicePatients: readonly string[] = []): { artifact: ModelArtifact; model: SeverityModel } {
  const { provenance: given, label, alarm, bandBudget } = fields;
  const { subset, ...provenance } = given;
  const complete = withArtifactFields(artifact, {
    // The split keeps its place among the provenance's keys, so the saved bytes stay the same; a subset's draw follows it.
    provenance: { ...provenance, split: { seed, train: split.patients.train.length, validation: split.patients.validation.length, test: split.patients.test.length }, ...(subset ? { subset } : {}) },
    label,
    ...(alarm ? { alarm } : {}),
    ...(bandBudget ? { bandBudget } : {}),
    seenPatients: seenPatientsOf([...[...split.patients.train, ...split.patients.validation].map((p) => data.patients[p]!), ...choicePatients]),
  });
  return { artifact: complete, model: modelFromArtifact(complete) };
}
