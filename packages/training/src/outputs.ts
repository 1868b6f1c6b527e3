// The one writer of what a pipeline produces: the artifact, its ml-random-forest export, the
// evaluation JSON and the HTML report, each in a folder made on demand, by default beside
// the model. Reports are rendered only when they are written.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { exportMlRandomForest, saveModelArtifact, type ModelArtifact } from '@ehr/model';

/** A file beside the model, e.g. report.html. */
export function besideModel(modelPath: string, file: string): string {
  return join(dirname(modelPath), file);
}

/** An output option: undefined = the default beside the model, null = none. */
export function outputPath(given: string | null | undefined, modelPath: string, file: string): string | null {
  return given === undefined ? besideModel(modelPath, file) : given;
}

export async function writeText(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, text);
}

/** JSON with one space of indentation (readable, still compact for large evaluations); `indent` 0 = one line. */
export async function writeJson(path: string, value: unknown, indent = 1): Promise<void> {
  await writeText(path, JSON.stringify(value, null, indent || undefined) + '\n');
}

export interface ModelOutputs {
  modelPath: string;
  artifact: ModelArtifact;
  /** ml-random-forest JSON. */
  exportPath?: string | null;
  json?: { path: string; value: unknown } | null;
  report?: { path: string; render: () => string } | null;
}

/** Writes the artifact, then its export, the evaluation JSON and the report, as given. */
export async function writeModelOutputs(o: ModelOutputs): Promise<void> {
  await mkdir(dirname(o.modelPath), { recursive: true });
  await saveModelArtifact(o.modelPath, o.artifact);
  if (o.exportPath) await writeJson(o.exportPath, exportMlRandomForest(o.artifact), 0);
  if (o.json) await writeJson(o.json.path, o.json.value);
  if (o.report) await writeText(o.report.path, o.report.render());
}
