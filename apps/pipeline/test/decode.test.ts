import { MemoryBroker, MemoryBus } from '@ehr/bus';
import { runCommand } from '@ehr/cli';
import { DEFAULT_ENGINE_OPTIONS, encodeFeatureVectorDraft, FEATURE_NAMES, processEvent, serializeFeatureVector, TOPICS, type FeatureDraft, type RawEvent } from '@ehr/features';
import { describe, expect, it } from 'vitest';
import { decodeProgram, runDecode, type DecodeOptions } from '../src/decode.js';

const when = new Date('2025-01-01T00:00:00Z');
const raw: RawEvent = {
  schema: 'vital_sign',
  schemaVersion: 1,
  eventId: 'e-1',
  patientId: 'p-1',
  encounterId: null,
  occurredAt: '2025-01-01T00:00:00Z',
  producedAt: '2025-01-01T00:00:00Z',
  source: 'synthetic',
  payload: { kind: 'heart_rate', value: 121, unit: '/min' },
};
function draft(): FeatureDraft {
  const o = processEvent(new Map(), raw, DEFAULT_ENGINE_OPTIONS);
  if (o.kind !== 'featurized' || !o.vector) throw new Error('expected a vector');
  return o.vector;
}

function harness(inputs: Record<string, Buffer> = {}, bus?: MemoryBus) {
  let out = '';
  let err = '';
  const output = { out: (t: string) => void (out += t), err: (t: string) => void (err += t) };
  const run = (argv: string[]) =>
    runCommand(decodeProgram(output), argv, (p) =>
      runDecode(p.opts<DecodeOptions>(), {
        output,
        readInput: async (file) => inputs[file] ?? Buffer.alloc(0),
        connect: async () => {
          if (!bus) throw new Error('no bus');
          await bus.connect();
          return bus;
        },
        interrupted: new Promise(() => {}),
      }),
    output);
  return { run, out: () => out, err: () => err };
}

describe('npm run decode', () => {
  it('--help exits 0; a bad flag exits 2 with one line and the usage', async () => {
    const h = harness();
    expect(await h.run(['--help'])).toBe(0);
    expect(h.out()).toContain('--from-beginning');
    const bad = harness();
    expect(await bad.run(['--topik', 'x'])).toBe(2);
    expect(bad.err().split('\n')[0]).toMatch(/unknown option '--topik'/);
    expect(bad.err()).toContain('Usage:');
    const neither = harness();
    expect(await neither.run([])).toBe(2);
    expect(neither.err()).toContain('give either --topic or --file');
  });

  it('decodes a frame from a file (kcat -D "") to the JSON the services see', async () => {
    const d = draft();
    const h = harness({ 'v.bin': encodeFeatureVectorDraft(d, when) });
    expect(await h.run(['--file', 'v.bin'])).toBe(0);
    expect(JSON.parse(h.out())).toEqual(JSON.parse(serializeFeatureVector(d, when)));
  });

  it("reads many messages as kcat -f '%S %s' writes them, and names the one it cannot decode", async () => {
    const frame = encodeFeatureVectorDraft(draft(), when);
    const sized = (b: Buffer) => Buffer.concat([Buffer.from(`${b.length} `), b, Buffer.from('\n')]);
    const h = harness({ all: Buffer.concat([sized(frame), sized(Buffer.from('{"a":1}')), sized(frame.subarray(0, 40))]) });
    expect(await h.run(['--file', 'all', '--sized'])).toBe(1);
    expect(h.out().trim().split('\n').map((l) => Object.keys(JSON.parse(l) as object).length)).toEqual([9, 1]);
    expect(h.err()).toMatch(/^decode: message 3: unparseable: truncated/);
  });

  it('reads a topic from the beginning up to --max, each line with its position', async () => {
    const broker = new MemoryBroker();
    const writer = new MemoryBus({ broker });
    await writer.connect();
    await writer.ensureTopics([{ topic: TOPICS.features, partitions: 1 }]);
    await writer.produce(TOPICS.features, [
      { key: 'p-1', value: encodeFeatureVectorDraft(draft(), when) },
      { key: 'p-1', value: serializeFeatureVector(draft(), when) }, // the JSON of before still decodes
      { key: 'p-1', value: Buffer.from('EHRV\u0002') },
      { key: 'p-1', value: 'never read' },
    ]);
    const h = harness({}, new MemoryBus({ broker }));
    expect(await h.run(['--topic', TOPICS.features, '--from-beginning', '--max', '3'])).toBe(1);
    const lines = h.out().trim().split('\n').map((l) => JSON.parse(l) as { offset: string; value?: { payload: { features: Record<string, unknown> } }; error?: { reason: string } });
    expect(lines.map((l) => l.offset)).toEqual(['0', '1', '2']);
    expect(Object.keys(lines[0]!.value!.payload.features)).toEqual(FEATURE_NAMES);
    expect(lines[1]!.value).toEqual(lines[0]!.value);
    expect(lines[2]!.error?.reason).toBe('unparseable');
    expect(h.err()).toContain(`${TOPICS.features}[0]@2`);
  });
});
