import { stat } from 'node:fs/promises';
import { getHeapStatistics } from 'node:v8';
import { FEATURE_NAMES, FEATURE_SET_VERSION } from '@ehr/features';
import { loadModelArtifact, type SeverityModel } from '@ehr/model';
import type { Logger } from '@ehr/runtime';

async function signatureOf(path: string): Promise<string | null> {
  try {
    const s = await stat(path);
    return `${s.size}:${s.mtimeMs}`;
  } catch {
    return null;
  }
}

export class ModelRejectedError extends Error {
  constructor(
    readonly path: string,
    readonly reasons: string[],
  ) {
    super(`model ${path} refused: ${reasons.join('; ')}`);
    this.name = 'ModelRejectedError';
  }
}

/** Why a model cannot score this service's feature vectors (empty when it can). */
export function incompatibilities(model: Pick<SeverityModel, 'featureNames' | 'featureSchemaVersion' | 'bands'>): string[] {
  const reasons: string[] = [];
  if (model.featureSchemaVersion !== FEATURE_SET_VERSION) {
    reasons.push(`feature schema ${model.featureSchemaVersion} does not match the served feature set ${FEATURE_SET_VERSION}`);
  }
  const served = new Set<string>(FEATURE_NAMES);
  const unknown = model.featureNames.filter((n) => !served.has(n));
  if (unknown.length > 0) reasons.push(`${unknown.length} features are not served: ${unknown.slice(0, 5).join(', ')}${unknown.length > 5 ? ', …' : ''}`);
  if (!model.bands) reasons.push('the artifact has no band thresholds');
  return reasons;
}

/**
 * The largest artifact this process loads by default: a sixth of its heap. Loading takes
 * about five times the artifact's JSON in heap (the served PhysioNet model, 31.5 MB, needs
 * about 170 MiB), and a file past what the heap holds would not be refused but would end the
 * process (V8's out-of-memory is fatal), again at every restart. 256 MiB of heap (the
 * manifest's) loads artifacts up to 44 MB.
 */
export const defaultModelMaxBytes = (): number => Math.floor(getHeapStatistics().heap_size_limit / 6);

export interface ModelEvent {
  kind: 'loaded' | 'refused' | 'missing';
  path: string;
  version?: string;
  reasons?: string[];
}

/**
 * The current model, swapped atomically. Scoring reads `current` once per batch, so a
 * swap lands between batches: every message is scored once, by one model. A refused
 * artifact leaves the current model in place.
 */
export class ModelHolder {
  private model: SeverityModel | null = null;
  private lastError: string | null = null;
  private watchTimer: NodeJS.Timeout | null = null;
  private lastSeen: string | null = null;
  private reloading: Promise<SeverityModel> | null = null;

  constructor(
    private readonly path: string,
    private readonly logger: Logger,
    private readonly onEvent: (event: ModelEvent) => void = () => undefined,
    /** What scores without it: NEWS2 for the served model; nothing for a challenger, which is skipped. */
    private readonly without = 'scoring with NEWS2 only',
    /** Larger files (on disk, or once decompressed) are refused before they are parsed (MODEL_MAX_BYTES). */
    private readonly maxBytes = defaultModelMaxBytes(),
  ) {}

  get current(): SeverityModel | null {
    return this.model;
  }

  get error(): string | null {
    return this.lastError;
  }

  /** Loads at start; a missing file is not an error (scores fall back to NEWS2). */
  async loadInitial(): Promise<void> {
    try {
      await this.reload();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        this.lastError = `no model at ${this.path}: ${this.without}`;
        this.onEvent({ kind: 'missing', path: this.path });
        this.logger.warn({ path: this.path }, `no model artifact: ${this.without}`);
        return;
      }
      this.logger.error({ err, path: this.path }, `model refused at start: ${this.without}`);
    }
  }

  /** Loads the artifact and swaps it in, or throws why not (keeping the current model). */
  reload(): Promise<SeverityModel> {
    // Concurrent reloads (a file change and an HTTP call at once) share one load.
    this.reloading ??= this.load(this.path).finally(() => {
      this.reloading = null;
    });
    return this.reloading;
  }

  private async load(path: string): Promise<SeverityModel> {
    // Remember which version of the file this was, so the watcher neither reloads it nor
    // retries a refused file until it changes again.
    this.lastSeen = await signatureOf(path);
    let next: SeverityModel;
    try {
      next = await loadModelArtifact(path, { fileBytes: this.maxBytes, jsonBytes: this.maxBytes });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw err;
      const reasons = [(err as Error).message];
      this.refuse(path, reasons);
      throw new ModelRejectedError(path, reasons);
    }
    const reasons = incompatibilities(next);
    if (reasons.length > 0) {
      this.refuse(path, reasons);
      throw new ModelRejectedError(path, reasons);
    }
    const previous = this.model?.version ?? null;
    this.model = next;
    this.lastError = null;
    this.onEvent({ kind: 'loaded', path, version: next.version });
    this.logger.info({ path, version: next.version, previous, trees: next.nTrees }, 'model loaded');
    return next;
  }

  private refuse(path: string, reasons: string[]): void {
    this.lastError = `refused ${path}: ${reasons.join('; ')}`;
    this.onEvent({ kind: 'refused', path, reasons });
    this.logger.error({ path, reasons, keeping: this.model?.version ?? null }, 'model artifact refused; keeping the current model');
  }

  /** Polls the file (size + mtime), which also sees atomic renames that fs.watch misses. */
  watch(intervalMs: number): void {
    const tick = async () => {
      const signature = await signatureOf(this.path);
      if (signature !== null && signature !== this.lastSeen) await this.reload().catch(() => undefined);
      this.watchTimer = setTimeout(() => void tick(), intervalMs);
      this.watchTimer.unref();
    };
    void tick();
  }

  stopWatching(): void {
    if (this.watchTimer) clearTimeout(this.watchTimer);
    this.watchTimer = null;
  }
}
