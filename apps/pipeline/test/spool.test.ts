// What a stop keeps of a topic two consumers read (the scores: the sink and alerting): each
// record either has not committed, once, in order.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { MemoryBroker } from '@ehr/bus';
import { TOPICS } from '@ehr/features';
import { afterAll, describe, expect, it } from 'vitest';
import { describeSpoolDamage, resumeSpool, STAGE_INPUTS, writeSpool, type StageInput } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'ehr-pipeline-spool-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the stop spool', () => {
  it('drains and keeps the scores alerting has not read, and a challenger\'s shadow scores, alerting before the sink', () => {
    expect([...STAGE_INPUTS.keys()]).toEqual(['feature', 'scoring', 'alerting', 'sink']);
    expect(STAGE_INPUTS.get('alerting')).toEqual([TOPICS.scores]);
    expect(STAGE_INPUTS.get('sink')).toContain(TOPICS.shadowScores);
  });

  it('keeps a record of a topic two groups read once, when either has not committed it, in partition and offset order', async () => {
    const broker = new MemoryBroker({ defaultPartitions: 2 });
    broker.createTopic({ topic: TOPICS.scores, partitions: 2 });
    // Keys that land on both partitions, ten records each.
    for (let i = 0; i < 40; i++) broker.append(TOPICS.scores, [{ key: `p${i}`, value: `score-${i}` }]);
    const sizes = broker.topics.get(TOPICS.scores)!.partitions.map((p) => p.end);
    // The sink has landed everything of partition 0 and 3 of partition 1; alerting read 2 and 5.
    broker.group('sink').commit(TOPICS.scores, 0, sizes[0]!);
    broker.group('sink').commit(TOPICS.scores, 1, 3);
    broker.group('alerting').commit(TOPICS.scores, 0, 2);
    broker.group('alerting').commit(TOPICS.scores, 1, 5);
    const inputs: StageInput[] = [
      { stage: 'alerting', topic: TOPICS.scores, groupId: 'alerting' },
      { stage: 'sink', topic: TOPICS.scores, groupId: 'sink' },
    ];
    const report = writeSpool(broker, inputs, join(dir, 'union'));
    const expected = sizes[0]! - 2 + (sizes[1]! - 3);
    expect(report.counts).toEqual({ [TOPICS.scores]: expected });

    const next = new MemoryBroker({ defaultPartitions: 2 });
    const resumed = await resumeSpool(next, join(dir, 'union'), 2);
    expect(resumed.total).toBe(expected);
    const values = next.uncommitted(TOPICS.scores, 'anyone').map((r) => r.value.toString());
    expect(new Set(values).size).toBe(expected);
  });
});

/** A spool line as writeSpool writes it. */
const line = (i: number) => JSON.stringify({ topic: TOPICS.events, key: `p${i}`, value: Buffer.from(`event-${i}`).toString('base64'), headers: {} });

/** A spool directory holding `body` as the file a stop writes. */
function spoolOf(name: string, body: Buffer): string {
  const spool = join(dir, name);
  mkdirSync(spool, { recursive: true });
  writeFileSync(join(spool, 'pipeline-spool.jsonl.gz'), body);
  return spool;
}

const resumedValues = (broker: MemoryBroker) => broker.uncommitted(TOPICS.events, 'anyone').map((r) => r.value.toString());

describe('a damaged spool', () => {
  it('does not stop the start: every readable record is resumed, each bad line is named by file and line, the file is moved aside', async () => {
    const body = [line(1), '{"topic":"ehr.ev', line(2), JSON.stringify({ topic: TOPICS.events, key: 'p3', headers: {} }), JSON.stringify({ topic: 7, key: 'p4', value: 'AAAA' }), line(5), '{"topic":"ehr.events.v1","key":"p6","va'];
    const spool = spoolOf('lines', gzipSync(body.join('\n')));
    const broker = new MemoryBroker({ defaultPartitions: 1 });
    const report = await resumeSpool(broker, spool, 1);

    expect(report.total).toBe(3);
    expect(resumedValues(broker)).toEqual(['event-1', 'event-2', 'event-5']);
    const file = join(spool, 'pipeline-spool.jsonl.gz');
    expect(report.damaged).toEqual([
      {
        file,
        movedTo: expect.stringMatching(/pipeline-spool\.jsonl\.gz\.bad-\d+$/),
        kept: 3,
        unreadable: 4,
        truncated: false,
        problems: [expect.stringMatching(new RegExp(`^${file}:2: not JSON \\(`)), `${file}:4: no value (base64 text)`, `${file}:5: no topic (a non-empty string)`, expect.stringMatching(new RegExp(`^${file}:7: not JSON`))],
      },
    ]);
    expect(describeSpoolDamage(report.damaged![0]!)).toMatch(/^the spool is damaged: .*:2: not JSON .* \(and 3 more problems\)\. Resumed the 3 records it could read; 4 lines could not be read\. It is kept as .*\.bad-\d+$/);

    // The next start reads what was readable, once, and never the damaged file again.
    const files = readdirSync(spool).sort();
    expect(files).toEqual([expect.stringMatching(/^pipeline-spool\.jsonl\.gz\.bad-\d+$/), expect.stringMatching(/^pipeline-spool\.resumed-\d+\.jsonl\.gz$/)]);
    const next = new MemoryBroker({ defaultPartitions: 1 });
    const again = await resumeSpool(next, spool, 1);
    expect(again).toMatchObject({ total: 3 });
    expect(again.damaged).toBeUndefined();
    expect(resumedValues(next)).toEqual(['event-1', 'event-2', 'event-5']);
    // A stop accounts for the resumed records; the damaged file stays for a person to look at.
    writeSpool(next, [], spool);
    expect(readdirSync(spool)).toEqual([files[0]]);
  });

  it('resumes the records before the point where a gzip file breaks off, and says the rest is lost', async () => {
    const whole = gzipSync(Array.from({ length: 3_000 }, (_, i) => line(i)).join('\n'));
    const spool = spoolOf('truncated', whole.subarray(0, whole.length / 2));
    const broker = new MemoryBroker({ defaultPartitions: 1 });
    const report = await resumeSpool(broker, spool, 1);

    expect(report.total).toBeGreaterThan(0);
    expect(report.total).toBeLessThan(3_000);
    expect(resumedValues(broker)).toEqual(Array.from({ length: report.total }, (_, i) => `event-${i}`));
    const damage = report.damaged![0]!;
    expect(damage).toMatchObject({ kept: report.total, unreadable: 0, truncated: true });
    expect(damage.problems).toEqual([`${join(spool, 'pipeline-spool.jsonl.gz')}:${report.total + 1}: cannot be read past here (unexpected end of file)`]);
    expect(describeSpoolDamage(damage)).toMatch(/Resumed the [\d,]+ records it could read; the rest of the file could not be read\. It is kept as /);
  });

  it('moves aside a file that is not gzip at all, resuming nothing from it', async () => {
    const spool = spoolOf('not-gzip', Buffer.from(`${line(1)}\n`));
    const report = await resumeSpool(new MemoryBroker({ defaultPartitions: 1 }), spool, 1);
    expect(report).toMatchObject({ total: 0, damaged: [{ kept: 0, truncated: true, problems: [expect.stringMatching(/:1: cannot be read past here \(incorrect header check\)$/)] }] });
    expect(readdirSync(spool)).toEqual([expect.stringMatching(/^pipeline-spool\.jsonl\.gz\.bad-\d+$/)]);
  });
});
