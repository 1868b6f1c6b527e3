// The deployable services as the tools see them: each manifest (the launcher's list in
// @ehr/pipeline) plus where its workspace, package and entry point live. The stack runner,
// the compose checks and the build rehearsal all read this one table.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { manifestOf, SERVICE_NAMES, STAGES, type ServiceName } from '@ehr/pipeline';

export { isServiceName, SERVICE_NAMES, type ServiceName } from '@ehr/pipeline';

/** The stream stages, in pipeline order (the dashboard only watches). */
export const PIPELINE_SERVICES: readonly ServiceName[] = STAGES;

export interface ServiceInfo {
  name: ServiceName;
  /** npm package name, the `turbo prune` target. */
  packageName: `@ehr/${ServiceName}`;
  /** Workspace folder, relative to the repository root. */
  workspace: `services/${ServiceName}`;
  /** Built entry point, relative to the repository root. */
  entry: `services/${ServiceName}/dist/main.js`;
  defaultPort: number;
  /** The variable naming its consumer group; null for the producer, which only produces. */
  groupIdVariable: string | null;
  /** The variable that tells it the other services' URLs, for one that watches them. */
  peersVariable: string | null;
  /** Node flags its process runs with (before the entry point). */
  nodeFlags: readonly string[];
  /** Environment its process starts with unless told otherwise (its image's ENV). */
  processEnv: Readonly<Record<string, string>>;
}

/** Where a service lives and how it is built, from its manifest and the folder convention. */
export function serviceInfo(name: ServiceName): ServiceInfo {
  const manifest = manifestOf(name);
  return {
    name,
    packageName: `@ehr/${name}`,
    workspace: `services/${name}`,
    entry: `services/${name}/dist/main.js`,
    defaultPort: manifest.defaultPort,
    groupIdVariable: manifest.groupIdVariable,
    peersVariable: manifest.peersVariable ?? null,
    nodeFlags: manifest.nodeFlags ?? [],
    processEnv: manifest.processEnv ?? {},
  };
}

export const SERVICES: readonly ServiceInfo[] = SERVICE_NAMES.map(serviceInfo);

function declaresWorkspaces(manifest: string): boolean {
  try {
    return Array.isArray((JSON.parse(readFileSync(manifest, 'utf8')) as { workspaces?: unknown }).workspaces);
  } catch {
    return false;
  }
}

/** The monorepo root: the nearest folder at or above `from` whose package.json declares workspaces. */
export function findRepoRoot(from: string = dirname(fileURLToPath(import.meta.url))): string {
  let dir = resolve(from);
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && declaresWorkspaces(manifest)) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no repository root (a package.json with workspaces) above ${from}`);
    dir = parent;
  }
}
