// `npm run decode -- --topic ehr.scores.v1 --from-beginning --max 5`, or
// `kcat -C -b … -t ehr.scores.v1 -c 1 -e -D '' | npm run decode -- --file -`: see ../decode.ts.
import { readFile } from 'node:fs/promises';
import { BusEnv, createBus } from '@ehr/bus';
import { CommandFailure, main } from '@ehr/cli';
import { createLogger, readConfig } from '@ehr/runtime';
import { decodeProgram, runDecode, type DecodeOptions } from '../decode.js';

const output = { out: (t: string) => void process.stdout.write(t), err: (t: string) => void process.stderr.write(t) };

async function readInput(file: string): Promise<Buffer> {
  if (file !== '-') return readFile(file);
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

await main(decodeProgram(output), (p) =>
  runDecode(p.opts<DecodeOptions>(), {
    output,
    readInput,
    connect: async (brokers) => {
      const env = readConfig(BusEnv, { ...process.env, ...(brokers ? { KAFKA_BROKERS: brokers } : {}) }, 'decode');
      if (!env.KAFKA_BROKERS) throw new CommandFailure('no broker: give --brokers host:port or set KAFKA_BROKERS', 2);
      const bus = createBus(env, { clientId: 'ehr-decode', logger: createLogger({ service: 'decode', level: 'warn' }) });
      await bus.connect();
      return bus;
    },
    interrupted: new Promise<void>((resolve) => process.once('SIGINT', () => resolve())),
  }),
);
