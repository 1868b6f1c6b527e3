// The deployable services: where each lives, its package, its default port. The stack
// runner, the compose checks and the build rehearsal all read this one table.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SERVICE_NAMES = ['producer', 'feature', 'scoring', 'sink', 'dashboard'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

/** The four stream services, in pipeline order (the dashboard only watches). */
export const PIPELINE_SERVICES: readonly ServiceName[] = ['producer', 'feature', 'scoring', 'sink'];

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
}

const DEFAULT_PORTS: Record<ServiceName, number> = { dashboard: 3000, producer: 3001, feature: 3002, scoring: 3003, sink: 3004 };
const GROUP_VARIABLES: Record<ServiceName, string | null> = {
  producer: null,
  feature: 'FEATURE_GROUP_ID',
  scoring: 'SCORING_GROUP_ID',
  sink: 'SINK_GROUP_ID',
  dashboard: 'DASHBOARD_GROUP_ID',
};

export function serviceInfo(name: ServiceName): ServiceInfo {
  return {
    name,
    packageName: `@ehr/${name}`,
    workspace: `services/${name}`,
    entry: `services/${name}/dist/main.js`,
    defaultPort: DEFAULT_PORTS[name],
    groupIdVariable: GROUP_VARIABLES[name],
  };
}

export const SERVICES: readonly ServiceInfo[] = SERVICE_NAMES.map(serviceInfo);

export function isServiceName(name: string): name is ServiceName {
  return (SERVICE_NAMES as readonly string[]).includes(name);
}

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
