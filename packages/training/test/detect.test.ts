import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MEDS_DEMO_RELATIVE_PATH, PHYSIONET_RELATIVE_PATH } from '@ehr/cohort';
import { describe, expect, it } from 'vitest';
import { detectDataKind, findPhysioNetData, physionetFileIn } from '../src/index.js';
import { tempDir } from './helpers.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const dir = tempDir('detect');

describe('what npm run evaluate is given', () => {
  it('a directory or a .psv is PhysioNet; a directory holding the packed parquet means the parquet', async () => {
    const psv = join(dir, 'psv');
    mkdirSync(psv, { recursive: true });
    writeFileSync(join(psv, 'p1.psv'), 'HR|SepsisLabel\n80|0\n');
    expect(await detectDataKind(psv)).toBe('physionet');
    expect(await detectDataKind(join(psv, 'p1.psv'))).toBe('physionet');
    await expect(detectDataKind(join(dir, 'nowhere'))).rejects.toThrow(/not found/);
    const shared = join(dir, 'shared');
    mkdirSync(shared, { recursive: true });
    writeFileSync(join(shared, 'physionet2019_setB_train.parquet'), '');
    expect(physionetFileIn(shared)).toBe(join(shared, 'physionet2019_setB_train.parquet'));
    expect(physionetFileIn(psv)).toBe(psv);
    expect(findPhysioNetData({ PHYSIONET_PATH: shared }, dir)).toBe(join(shared, 'physionet2019_setB_train.parquet'));
    expect(findPhysioNetData({ PHYSIONET_PATH: join(dir, 'nowhere') }, dir)).toBeNull();
    expect(findPhysioNetData({ PHYSIONET_PATH: psv }, dir)).toBe(psv);
    // An empty directory (what Docker mounts where the host has no data) is no data: the default model falls back to synthetic.
    const empty = join(dir, 'empty');
    mkdirSync(empty, { recursive: true });
    expect(findPhysioNetData({ PHYSIONET_PATH: empty }, dir)).toBeNull();
  });

  const meds = join(root, MEDS_DEMO_RELATIVE_PATH);
  const physionet = join(root, PHYSIONET_RELATIVE_PATH);
  it.skipIf(!existsSync(meds) || !existsSync(physionet))(
    existsSync(meds) && existsSync(physionet) ? 'parquet files by their columns: PhysioNet (patient_id, SepsisLabel) or MEDS (subject_id, code)' : 'parquet detection: SKIPPED, the shared data is not beside the checkout',
    async () => {
      expect(await detectDataKind(physionet)).toBe('physionet');
      expect(await detectDataKind(meds)).toBe('meds');
    },
  );
});
