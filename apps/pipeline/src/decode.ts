// `npm run decode`: any message of the pipeline's topics as JSON, the compact frames of
// ehr.features.v1 and ehr.scores.v1 (packages/features README, "Wire format") included.
// From a topic (kafkajs, through the bus: TLS, SASL, KAFKA_TOPIC_PREFIX as the services use
// them) or from raw bytes (a file or stdin, e.g. what kcat wrote).
import type { Bus } from '@ehr/bus';
import { CommandFailure, createCommand, integer, type Command, type CommandOutput } from '@ehr/cli';
import {
  decodeAlertEvent,
  decodeDeadLetter,
  decodeFeatureVector,
  decodeRawEvent,
  decodeSeverityScore,
  isFrame,
  parseJson,
  TOPICS,
  type Validation,
} from '@ehr/features';

type Decoder = (bytes: Uint8Array) => Validation<unknown>;

const BY_TOPIC: ReadonlyMap<string, Decoder> = new Map<string, Decoder>([
  [TOPICS.events, decodeRawEvent],
  [TOPICS.features, decodeFeatureVector],
  [TOPICS.scores, decodeSeverityScore],
  [TOPICS.deadLetter, decodeDeadLetter],
  [TOPICS.alerts, decodeAlertEvent],
]);

/** The decoder a topic's messages need; elsewhere, the message's own marker decides. */
function decoderFor(topic: string | null, bytes: Uint8Array): Decoder {
  const known = topic === null ? undefined : BY_TOPIC.get(topic);
  if (known) return known;
  if (isFrame(bytes)) return bytes[3] === 0x53 ? decodeSeverityScore : decodeFeatureVector; // 'S' | 'V'
  return parseJson;
}

export type Decoded = { ok: true; value: unknown } | { ok: false; reason: string; error: string };

export function decodeMessage(topic: string | null, bytes: Uint8Array): Decoded {
  const r = decoderFor(topic, bytes)(bytes);
  return r.ok ? { ok: true, value: r.value } : { ok: false, reason: r.reason, error: r.error };
}

/**
 * `kcat -f '%S %s'` output: each message as its byte length, a space, the bytes. A message may
 * hold any byte (a newline too), so the length is what separates them.
 */
export function* sizedMessages(input: Buffer): Generator<Buffer> {
  let at = 0;
  while (at < input.length) {
    const space = input.indexOf(0x20, at);
    const length = space < 0 ? NaN : Number(input.subarray(at, space).toString('latin1'));
    if (!Number.isSafeInteger(length) || length < 0 || space + 1 + length > input.length) {
      throw new CommandFailure(`--sized input: expected "<length> <bytes>" at byte ${at} (kcat -f '%S %s')`);
    }
    yield input.subarray(space + 1, space + 1 + length);
    at = space + 1 + length;
    while (input[at] === 0x0a) at++; // a newline kcat or a shell put between messages
  }
}

export interface DecodeDeps {
  output: CommandOutput;
  readInput(file: string): Promise<Buffer>;
  /** A connected bus for these brokers (null: KAFKA_BROKERS from the environment). */
  connect(brokers: string | null): Promise<Bus>;
  /** Resolves when the user asks to stop (Ctrl-C). */
  interrupted: Promise<void>;
}

export interface DecodeOptions {
  topic?: string;
  brokers?: string;
  fromBeginning?: boolean;
  max?: number;
  file?: string;
  sized?: boolean;
}

export function decodeProgram(output: CommandOutput): Command {
  return createCommand('decode', 'Prints the messages of a pipeline topic, or raw message bytes, decoded as JSON (one line each).', output)
    .usage('--topic <name> [--brokers host:port] [--from-beginning] [--max N] | --file <path|-> [--sized]   (npm run decode -- …)')
    .option('--topic <name>', `topic to read (${[...BY_TOPIC.keys()].join(', ')}; others are decoded by their marker)`)
    .option('--brokers <list>', 'bootstrap servers (default: KAFKA_BROKERS; TLS and SASL from the KAFKA_* variables)')
    .option('--from-beginning', 'read the topic from its earliest message (default: only new ones)')
    .option('--max <n>', 'stop after this many messages', integer({ min: 1 }))
    .option('--file <path>', "raw bytes of one message ('-': stdin), e.g. from kcat -e -c 1 -D ''")
    .option('--sized', "the file holds many messages as kcat -f '%S %s' writes them")
    .addHelpText('after', '\nExit status: 0 all decoded, 1 some message could not be (its reason on stderr), 2 bad usage.\n');
}

function line(output: CommandOutput, value: unknown): void {
  output.out(`${JSON.stringify(value)}\n`);
}

/** Runs a parsed `decode`; resolves the exit code. */
export async function runDecode(options: DecodeOptions, deps: DecodeDeps): Promise<number> {
  const { output } = deps;
  if ((options.topic === undefined) === (options.file === undefined)) throw new CommandFailure('give either --topic or --file', 2);
  if (options.file !== undefined && (options.brokers || options.fromBeginning || options.max)) throw new CommandFailure('--brokers, --from-beginning and --max go with --topic', 2);
  if (options.sized && options.file === undefined) throw new CommandFailure('--sized goes with --file', 2);
  let failed = 0;
  const report = (where: string, decoded: Decoded) => {
    if (decoded.ok) return;
    failed++;
    output.err(`decode: ${where}: ${decoded.reason}: ${decoded.error}\n`);
  };

  if (options.file !== undefined) {
    const input = await deps.readInput(options.file);
    const messages = options.sized ? [...sizedMessages(input)] : [input];
    messages.forEach((bytes, i) => {
      const decoded = decodeMessage(null, bytes);
      if (decoded.ok) line(output, decoded.value);
      report(options.sized ? `message ${i + 1}` : options.file!, decoded);
    });
    return failed > 0 ? 1 : 0;
  }

  const topic = options.topic!;
  const bus = await deps.connect(options.brokers ?? null);
  let seen = 0;
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  try {
    const subscription = await bus.subscribe({
      // A group of its own, never committed: reading never moves a service's offsets.
      groupId: `ehr-decode-${process.pid}-${Date.now()}`,
      topics: [topic],
      fromBeginning: options.fromBeginning ?? false,
      autoCommit: false,
      handler: async ({ records }) => {
        for (const r of records) {
          if (options.max !== undefined && seen >= options.max) break;
          seen++;
          const decoded = decodeMessage(topic, r.value);
          line(output, { topic, partition: r.partition, offset: r.offset, key: r.key, ...(decoded.ok ? { value: decoded.value } : { error: { reason: decoded.reason, message: decoded.error } }) });
          report(`${topic}[${r.partition}]@${r.offset}`, decoded);
        }
        if (options.max !== undefined && seen >= options.max) done();
      },
    });
    await Promise.race([finished, deps.interrupted]);
    await subscription.stop();
  } finally {
    await bus.close();
  }
  return failed > 0 ? 1 : 0;
}
