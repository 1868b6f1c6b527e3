// Seeded synthetic binary-classification data shaped like a deterioration cohort:
// latent physiology → correlated vitals, skewed labs, counts and flags; missing values
// (some missing-not-at-random); a label from nonlinear effects, interactions and noise
// (~10–20 % positives; noise-limited so AUROC lands near 0.8, like the real task).
//
//   tsx bench/synthetic.ts [--rows 100000] [--test-rows 25000] [--features 60] [--seed 7] [--out DIR]
// writes DIR/train.csv and DIR/test.csv (default DIR: bench-results/synthetic-<rows>, git-ignored).
import { mkdirSync, createWriteStream } from 'node:fs';
import { join, resolve } from 'node:path';
import { createRandom, type Random } from '@ehr/features';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : fallback;
}

const rows = Number(arg('rows', '100000'));
const testRows = Number(arg('test-rows', '25000'));
const nFeatures = Number(arg('features', '60'));
const seed = Number(arg('seed', '7'));
const out = resolve(arg('out', join('bench-results', `synthetic-${rows}`)));

const LATENT = 6;
type Kind = 'vital' | 'lab' | 'count' | 'flag';

interface FeatureSpec {
  name: string;
  kind: Kind;
  group: number;
  loading: number;
  severityLoading: number;
  noise: number;
  mean: number;
  scale: number;
  missingRate: number;
  /** Missing more often when the latent value is normal (labs not ordered for well patients). */
  mnar: boolean;
  uShaped: boolean;
}

function specs(r: Random): FeatureSpec[] {
  const kinds: Kind[] = ['vital', 'lab', 'count', 'flag'];
  return Array.from({ length: nFeatures }, (_, j) => {
    const kind = kinds[j % 4]!;
    return {
      name: `${kind}_${String(j).padStart(2, '0')}`,
      kind,
      group: 1 + (j % (LATENT - 1)),
      loading: 0.3 + 0.7 * r.next(),
      severityLoading: 0.5 * r.next(),
      noise: 0.3 + 0.5 * r.next(),
      mean: kind === 'vital' ? 60 + 60 * r.next() : kind === 'lab' ? 0.5 + 3 * r.next() : 2,
      scale: kind === 'vital' ? 5 + 10 * r.next() : 0.3 + 0.4 * r.next(),
      missingRate: kind === 'lab' ? 0.05 + 0.3 * r.next() : r.chance(0.5) ? 0.02 * r.next() : 0,
      mnar: kind === 'lab' && r.chance(0.5),
      uShaped: kind === 'vital' && r.chance(0.4),
    };
  });
}

function sampleRow(r: Random, fs: FeatureSpec[], x: (number | null)[]): number {
  const z = Array.from({ length: LATENT }, () => r.normal());
  const sev = z[0]!;
  for (let j = 0; j < fs.length; j++) {
    const s = fs[j]!;
    const latent = s.loading * z[s.group]! + s.severityLoading * sev;
    const base = s.uShaped ? Math.abs(latent) * 1.2 - 0.8 : latent;
    const noisy = base + s.noise * r.normal();
    let v: number;
    switch (s.kind) {
      case 'vital': v = Math.round((s.mean + s.scale * noisy) * 10) / 10; break;
      case 'lab': v = Math.round(s.mean * Math.exp(s.scale * noisy) * 100) / 100; break;
      case 'count': v = Math.max(0, Math.round(s.mean + 1.5 * noisy)); break;
      default: v = noisy > 0.8 ? 1 : 0;
    }
    const pMissing = s.mnar ? Math.min(0.9, s.missingRate * (Math.abs(latent) < 0.7 ? 2 : 0.5)) : s.missingRate;
    x[j] = r.chance(pMissing) ? null : v;
  }
  // Outcome: nonlinear and interacting effects of the latent physiology, plus noise.
  const logit =
    -2.9 +
    0.9 * sev +
    0.45 * z[1]! * z[1]! +
    1.0 * Math.max(0, z[2]! - 0.5) +
    0.9 * (z[3]! > 0.8 && z[4]! < -0.3 ? 1 : 0) +
    0.5 * z[1]! * z[2]! +
    0.5 * Math.sin(2 * z[5]!) +
    0.35 * Math.max(0, -z[4]!) * Math.max(0, sev) +
    0.5 * r.normal();
  return r.chance(1 / (1 + Math.exp(-logit))) ? 1 : 0;
}

async function writeCsv(path: string, r: Random, fs: FeatureSpec[], n: number): Promise<number> {
  const stream = createWriteStream(path);
  const write = (s: string): Promise<void> =>
    stream.write(s) ? Promise.resolve() : new Promise((res) => stream.once('drain', () => res()));
  await write(fs.map((s) => s.name).join(',') + ',label\n');
  const x: (number | null)[] = new Array<number | null>(fs.length).fill(null);
  let positives = 0;
  let chunk = '';
  for (let i = 0; i < n; i++) {
    const y = sampleRow(r, fs, x);
    positives += y;
    chunk += x.map((v) => (v === null ? '' : String(v))).join(',') + ',' + y + '\n';
    if (chunk.length > 1 << 20) {
      await write(chunk);
      chunk = '';
    }
  }
  await write(chunk);
  await new Promise<void>((res, rej) => stream.end((err?: Error | null) => (err ? rej(err) : res())));
  return positives;
}

const rng = createRandom(seed);
const fs = specs(rng.fork('specs'));
mkdirSync(out, { recursive: true });
const trainPos = await writeCsv(join(out, 'train.csv'), rng.fork('train'), fs, rows);
const testPos = await writeCsv(join(out, 'test.csv'), rng.fork('test'), fs, testRows);
process.stdout.write(
  JSON.stringify({ out, rows, testRows, features: nFeatures, seed, trainPositiveRate: trainPos / rows, testPositiveRate: testPos / testRows }) + '\n',
);
