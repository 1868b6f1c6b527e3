// The arguments of `npm run stack`, checked before a broker or a service is started.
import { createCommand, InvalidArgumentError, namedInteger, Option, type Command, type CommandOutput } from '@ehr/cli';
import { isServiceName, SERVICE_NAMES, SERVICES, type ServiceName } from '../services.js';

export interface StackArguments {
  services: ServiceName[];
  ports: Partial<Record<ServiceName, number>>;
}

/** `producer,feature,…`: every name a service of the pipeline. */
const serviceList = (raw: string): ServiceName[] => {
  const names = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = names.find((s) => !isServiceName(s));
  if (unknown !== undefined || names.length === 0) throw new InvalidArgumentError(`${unknown === undefined ? 'no service named' : `unknown service '${unknown}'`}; expected some of ${SERVICE_NAMES.join(', ')}, separated by commas.`);
  return names as ServiceName[];
};

export function createStackProgram(output?: CommandOutput): Command {
  return createCommand('stack', 'Runs every service as its own process against a real Kafka, one combined readable log. Ctrl-C stops them in flow order and reports how each exited.', output)
    .usage('[options]   (npm run stack -- [options])')
    .addOption(new Option('--services <names>', 'which services to run, comma-separated').argParser(serviceList).default([...SERVICE_NAMES], SERVICE_NAMES.join(',')))
    .option('--port <name=port>', `a service's port, repeatable (defaults: ${SERVICES.map((s) => `${s.name} ${s.defaultPort}`).join(', ')})`, namedInteger(SERVICE_NAMES, { min: 1, max: 65_535 }))
    .addHelpText(
      'after',
      `
Kafka: KAFKA_BROKERS when set, else the broker of npm run kafka:up (started when none runs; it keeps running after).
Tokens: fresh AUTH_* tokens for each run in data/stack-tokens.env, unless the environment brings its own.
PIPELINE_DRAIN_SECONDS (60): how long Ctrl-C waits, in all, for the stages to drain.`,
    );
}

export function stackArguments(program: Command): StackArguments {
  const o = program.opts<{ services: ServiceName[]; port?: Map<string, number> }>();
  return { services: o.services, ports: Object.fromEntries(o.port ?? []) };
}
