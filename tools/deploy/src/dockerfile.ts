// A Dockerfile as stages of instructions (parsed by dockerfile-ast), and the facts about a
// service image that the compose checks and the build rehearsal rely on.
import { readFileSync } from 'node:fs';
import { DockerfileParser, type Flag, type Instruction } from 'dockerfile-ast';

export interface DockerInstruction {
  keyword: string;
  /** The arguments as written (continuations joined), without the flags. */
  content: string;
  /** `--name=value` flags (`--from`, `--chown`, `--interval`, …). */
  flags: Record<string, string>;
  /** Zero-based line. */
  line: number;
}

export interface DockerStage {
  index: number;
  name: string | null;
  /** The FROM image with ARG defaults substituted: an image, or the name of an earlier stage. */
  from: string;
  instructions: DockerInstruction[];
}

export interface Dockerfile {
  path: string;
  /** ARGs declared before the first FROM, with their defaults. */
  globalArgs: Record<string, string>;
  stages: DockerStage[];
}

export interface Healthcheck {
  none: boolean;
  /** argv of the check (exec form, or `/bin/sh -c <command>` for the shell form). */
  command: string[];
  flags: Record<string, string>;
}

interface WithFlags {
  getFlags(): Flag[];
}

function flagsOf(instruction: Instruction): Record<string, string> {
  const withFlags = instruction as unknown as Partial<WithFlags>;
  if (typeof withFlags.getFlags !== 'function') return {};
  return Object.fromEntries(withFlags.getFlags().map((f) => [f.getName(), f.getValue() ?? '']));
}

/** `${NAME}` and `$NAME` from `vars`; unknown names stay as written. */
export function substitute(text: string, vars: Readonly<Record<string, string>>): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (whole, braced?: string, bare?: string) => {
    const name = (braced ?? bare)!;
    return vars[name] ?? whole;
  });
}

/** `ARG NAME=default` → [NAME, default]. */
export function argDefault(instruction: DockerInstruction): [string, string | undefined] {
  const [name = '', ...rest] = instruction.content.split('=');
  return [name.trim(), rest.length > 0 ? rest.join('=').trim() : undefined];
}

export function parseDockerfile(text: string, path = 'Dockerfile'): Dockerfile {
  const parsed = DockerfileParser.parse(text);
  const globalArgs: Record<string, string> = {};
  const stages: DockerStage[] = [];
  for (const instruction of parsed.getInstructions()) {
    const item: DockerInstruction = {
      keyword: instruction.getKeyword().toUpperCase(),
      content: instruction.getArgumentsContent() ?? '',
      flags: flagsOf(instruction),
      line: instruction.getRange().start.line,
    };
    if (item.keyword === 'FROM') {
      const words = item.content.split(/\s+/).filter(Boolean);
      const as = words.findIndex((w) => w.toUpperCase() === 'AS');
      stages.push({
        index: stages.length,
        name: as >= 0 ? (words[as + 1] ?? null) : null,
        from: substitute(words[0] ?? '', globalArgs),
        instructions: [],
      });
      continue;
    }
    const stage = stages.at(-1);
    if (!stage) {
      if (item.keyword === 'ARG') {
        const [name, value] = argDefault(item);
        if (value !== undefined) globalArgs[name] = value;
      }
      continue;
    }
    stage.instructions.push(item);
  }
  return { path, globalArgs, stages };
}

export function readDockerfile(path: string): Dockerfile {
  return parseDockerfile(readFileSync(path, 'utf8'), path);
}

export function findStage(dockerfile: Dockerfile, nameOrIndex: string): DockerStage | undefined {
  return dockerfile.stages.find((s) => s.name === nameOrIndex || String(s.index) === nameOrIndex);
}

/** The stages a stage is built on, itself last (`FROM base AS runtime` → [base, runtime]). */
export function stageChain(dockerfile: Dockerfile, stage: DockerStage): DockerStage[] {
  const parent = findStage(dockerfile, stage.from);
  return parent && parent.index < stage.index ? [...stageChain(dockerfile, parent), stage] : [stage];
}

/** The image a stage finally starts from. */
export function baseImage(dockerfile: Dockerfile, stage: DockerStage): string {
  return stageChain(dockerfile, stage)[0]!.from;
}

/** An exec-form (JSON array) argument list, or null for the shell form. */
export function execForm(content: string): string[] | null {
  const text = content.trim();
  if (!text.startsWith('[')) return null;
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) && value.every((v) => typeof v === 'string') ? (value) : null;
  } catch {
    return null;
  }
}

/** argv for a CMD/RUN/HEALTHCHECK command: exec form as is, shell form through /bin/sh -c. */
export function commandArgv(content: string): string[] {
  return execForm(content) ?? ['/bin/sh', '-c', content];
}

/** ARG values visible in a stage: globals redeclared in it, and its own ARGs (with defaults). */
export function stageArgs(dockerfile: Dockerfile, stage: DockerStage, upTo = Infinity): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const s of stageChain(dockerfile, stage)) {
    for (const i of s.instructions) {
      if (s === stage && i.line >= upTo) break;
      if (i.keyword !== 'ARG') continue;
      const [name, value] = argDefault(i);
      const resolved = value ?? dockerfile.globalArgs[name];
      if (resolved !== undefined) vars[name] = resolved;
    }
  }
  return vars;
}

/** ENV of a stage, including what it inherits from the stages it is built on. */
export function stageEnv(dockerfile: Dockerfile, stage: DockerStage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const s of stageChain(dockerfile, stage)) {
    for (const i of s.instructions) {
      if (i.keyword !== 'ENV') continue;
      for (const [name, value] of parseEnvPairs(i.content)) env[name] = substitute(value, { ...stageArgs(dockerfile, s, i.line), ...env });
    }
  }
  return env;
}

/** `ENV A=1 B="two words"` (and the legacy `ENV A 1`) → pairs. */
export function parseEnvPairs(content: string): [string, string][] {
  const text = content.trim();
  if (!/^[A-Za-z_][A-Za-z0-9_]*=/.test(text)) {
    const [name = '', ...rest] = text.split(/\s+/);
    return [[name, rest.join(' ')]];
  }
  const pairs: [string, string][] = [];
  const re = /([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|'[^']*'|\S*)/g;
  for (const m of text.matchAll(re)) {
    const raw = m[2] ?? '';
    const value = raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw.startsWith("'") ? raw.slice(1, -1) : raw;
    pairs.push([m[1]!, value]);
  }
  return pairs;
}

/** The last instruction of a keyword in a stage or the stages it is built on. */
function lastOf(dockerfile: Dockerfile, stage: DockerStage, keyword: string): DockerInstruction | undefined {
  return stageChain(dockerfile, stage)
    .flatMap((s) => s.instructions)
    .filter((i) => i.keyword === keyword)
    .at(-1);
}

export function healthcheckOf(dockerfile: Dockerfile, stage: DockerStage): Healthcheck | null {
  const instruction = lastOf(dockerfile, stage, 'HEALTHCHECK');
  if (!instruction) return null;
  const text = instruction.content.trim();
  if (/^NONE$/i.test(text)) return { none: true, command: [], flags: instruction.flags };
  const command = text.replace(/^CMD\s+/i, '');
  return { none: false, command: commandArgv(command), flags: instruction.flags };
}

export interface ServiceImageFacts {
  /** The package `turbo prune` keeps (e.g. `@ehr/producer`), or null. */
  pruneTarget: string | null;
  /** Stage that runs `turbo prune`. */
  pruneStage: DockerStage | null;
  /** The final stage: what `docker run` runs. */
  runtime: DockerStage;
  /** Every stage's base image, stage references resolved. */
  baseImages: string[];
  env: Record<string, string>;
  port: number | null;
  exposed: number[];
  user: string | null;
  workdir: string | null;
  cmd: string[] | null;
  healthcheck: Healthcheck | null;
}

const PRUNE = /\bturbo\s+prune\s+(?:--\S+\s+)*([@\w./-]+)(?=[^&;|]*--docker)/;

export function serviceImageFacts(dockerfile: Dockerfile): ServiceImageFacts {
  const runtime = dockerfile.stages.at(-1);
  if (!runtime) throw new Error(`${dockerfile.path}: no FROM`);
  let pruneTarget: string | null = null;
  let pruneStage: DockerStage | null = null;
  for (const stage of dockerfile.stages) {
    for (const i of stage.instructions) {
      const match = i.keyword === 'RUN' ? PRUNE.exec(i.content) : null;
      if (match) {
        pruneTarget = match[1]!;
        pruneStage = stage;
      }
    }
  }
  const env = stageEnv(dockerfile, runtime);
  const port = env.PORT !== undefined && /^\d+$/.test(env.PORT) ? Number(env.PORT) : null;
  const exposed = stageChain(dockerfile, runtime)
    .flatMap((s) => s.instructions)
    .filter((i) => i.keyword === 'EXPOSE')
    .flatMap((i) => i.content.split(/\s+/))
    .map((p) => Number(p.split('/')[0]))
    .filter((p) => Number.isInteger(p));
  const cmd = lastOf(dockerfile, runtime, 'CMD');
  return {
    pruneTarget,
    pruneStage,
    runtime,
    baseImages: dockerfile.stages.map((s) => baseImage(dockerfile, s)),
    env,
    port,
    exposed,
    user: lastOf(dockerfile, runtime, 'USER')?.content.trim() ?? null,
    workdir: lastOf(dockerfile, runtime, 'WORKDIR')?.content.trim() ?? null,
    cmd: cmd ? commandArgv(cmd.content) : null,
    healthcheck: healthcheckOf(dockerfile, runtime),
  };
}
