// The repository's docker-compose.yml: valid, consistent with the Dockerfiles, and every
// container's environment accepted by that service's own configuration schema.
import { join } from 'node:path';
import { ALL_TOPICS, COMPACTED_TOPICS } from '@ehr/features';
import { ModelStepEnv } from '@ehr/init';
import { manifestOf } from '@ehr/pipeline';
import { readConfig } from '@ehr/runtime';
import { loadConfig as sinkConfig, warehouseKind } from '@ehr/sink';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { parseEnv } from 'node:util';
import { describe, expect, it } from 'vitest';
import { checkComposeFile, containerEnv, dependsOn, loadCompose, type ComposeService } from '../src/compose/check.js';
import { parsePortSpec, publishedPorts } from '../src/compose/ports.js';
import { readDockerfile, serviceImageFacts } from '../src/dockerfile.js';
import { findRepoRoot, PIPELINE_SERVICES, SERVICE_NAMES, serviceInfo } from '../src/services.js';
import { ensureComposeTokens, serviceTokenVariables } from '../src/tokens.js';

const root = findRepoRoot();
const composeFile = join(root, 'docker-compose.yml');
const keyFile = join(root, 'docker-compose.snowflake-key.yml');
// What compose reads from .env after `npm run compose:tokens` (written here to a scratch .env).
const dotEnv = join(mkdtempSync(join(tmpdir(), 'compose-tokens-')), '.env');
ensureComposeTokens(dotEnv);
const TOKENS = parseEnv(readFileSync(dotEnv, 'utf8')) as Record<string, string>;
const SNOWFLAKE_ENV = { ...TOKENS, SNOWFLAKE_ACCOUNT: 'myorg-acct', SNOWFLAKE_USER: 'PIPELINE', SNOWFLAKE_PASSWORD: 'secret', SNOWFLAKE_DATABASE: 'EHR' };

const services = (shell: Record<string, string> = TOKENS) => loadCompose(composeFile, shell).document.services as Record<string, ComposeService>;

describe('docker-compose.yml', () => {
  it('is a valid Compose file whose references hold, with and without Snowflake variables', () => {
    expect(checkComposeFile(composeFile, TOKENS)).toEqual([]);
    expect(checkComposeFile(composeFile, SNOWFLAKE_ENV)).toEqual([]);
    expect(checkComposeFile(composeFile, { ...TOKENS, EHR_BIND_ADDRESS: '0.0.0.0', KAFKA_HOST_PORT: '39092', LOG_LEVEL: 'debug' })).toEqual([]);
  });

  it('runs Kafka from the official image in KRaft mode, with a health check and its data in a volume', () => {
    const kafka = services().kafka!;
    expect(kafka.image).toMatch(/^apache\/kafka:3\.9\.\d+$/);
    const env = containerEnv(kafka, {});
    expect(env.KAFKA_PROCESS_ROLES?.split(',').sort()).toEqual(['broker', 'controller']);
    expect(env.CLUSTER_ID).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(env.KAFKA_AUTO_CREATE_TOPICS_ENABLE).toBe('false');
    expect(kafka.healthcheck?.test).toBeDefined();
    expect(kafka.volumes).toContain(`kafka-data:${env.KAFKA_LOG_DIRS}`);
  });

  it('builds every service from its own Dockerfile and starts it after Kafka is healthy and the topics exist (scoring: and the model step)', () => {
    const all = services();
    for (const name of SERVICE_NAMES) {
      const service = all[name];
      expect(service, name).toBeDefined();
      expect(service!.build).toEqual({ context: '.', dockerfile: `services/${name}/Dockerfile` });
      const model = name === 'scoring' ? { model: 'service_completed_successfully' } : {};
      expect(dependsOn(service!), name).toEqual({ kafka: 'service_healthy', topics: 'service_completed_successfully', ...model });
    }
  });

  it('trains the default model in a one-shot step from the init image into the volume scoring reads', () => {
    const all = services();
    const model = all.model!;
    expect(model.build).toEqual({ context: '.', dockerfile: 'apps/init/Dockerfile' });
    expect(model.restart).toBe('no');
    expect(model.command).toEqual(['node', 'apps/init/dist/cli/model.js']);
    const step = readConfig(ModelStepEnv, containerEnv(model, {}), 'model');
    expect(step.MODEL_PATH).toBe(containerEnv(all.scoring!, TOKENS).MODEL_PATH);
    const mountOf = (service: typeof model) => (service.volumes as string[]).find((v) => v.startsWith('model:'));
    expect(mountOf(model)).toBe(mountOf(all.scoring!));
    // Real ICU stays when the host folder holds them, read-only, where PHYSIONET_PATH points.
    const physionet = (model.volumes as string[]).find((v) => v.endsWith(':ro') && v.includes('physionet'));
    expect(physionet?.split(':')[1]).toBe(containerEnv(model, {}).PHYSIONET_PATH);
    // The scoring image carries no training code.
    expect(readFileSync(join(root, 'services/scoring/package.json'), 'utf8')).not.toContain('@ehr/training');
  });

  it('gives every service an environment its own config accepts, on the port its image declares', () => {
    const all = services();
    for (const name of SERVICE_NAMES) {
      const env = containerEnv(all[name]!, {});
      expect(() => manifestOf(name).checkConfig(env), name).not.toThrow();
      const facts = serviceImageFacts(readDockerfile(join(root, `services/${name}/Dockerfile`)));
      expect(env.PORT, name).toBe(String(facts.port));
      expect(env.HOST, name).toBe('0.0.0.0');
      const targets = (all[name]!.ports ?? []).map((p) => (typeof p === 'object' ? p.target : parsePortSpec(p)?.container.start));
      expect(targets, name).toEqual([facts.port]);
    }
  });

  it('points every service at the broker listener Kafka advertises inside the network', () => {
    const all = services();
    const advertised = containerEnv(all.kafka!, {}).KAFKA_ADVERTISED_LISTENERS!.split(',').map((l) => l.replace(/^\w+:\/\//, ''));
    for (const name of [...SERVICE_NAMES, 'topics']) expect(advertised, name).toContain(containerEnv(all[name]!, {}).KAFKA_BROKERS);
  });

  it('keeps the sink on DuckDB in a named volume by default', () => {
    const sink = services().sink!;
    const config = sinkConfig(containerEnv(sink, {}));
    expect(warehouseKind(config)).toBe('duckdb');
    const volume = (sink.volumes as string[]).map((v) => v.split(':')).find(([, target]) => config.DUCKDB_PATH!.startsWith(`${target}/`));
    expect(volume?.[0]).toBe('warehouse');
  });

  it('puts the sink on Snowflake when the Snowflake variables are set in the shell or .env', () => {
    const env = containerEnv(services(SNOWFLAKE_ENV).sink!, SNOWFLAKE_ENV);
    const config = sinkConfig(env);
    expect(warehouseKind(config)).toBe('snowflake');
    expect(config.SNOWFLAKE_ACCOUNT).toBe('myorg-acct');
  });

  it('hands the Snowflake private key to the sink as a secret file with the key override', () => {
    expect(checkComposeFile([composeFile, keyFile], SNOWFLAKE_ENV)[0]?.message).toMatch(/SNOWFLAKE_PRIVATE_KEY_FILE/);
    const shell = { ...SNOWFLAKE_ENV, SNOWFLAKE_PASSWORD: '', SNOWFLAKE_PRIVATE_KEY_FILE: keyFile };
    expect(checkComposeFile([composeFile, keyFile], shell)).toEqual([]);
    const override = loadCompose(keyFile, shell).document.services!.sink!;
    const env = { ...containerEnv(services(shell).sink!, shell), ...containerEnv(override, shell) };
    const config = sinkConfig(env);
    expect(warehouseKind(config)).toBe('snowflake');
    expect(config.SNOWFLAKE_PRIVATE_KEY_PATH).toBe('/run/secrets/snowflake_private_key');
  });

  it('lets the stream workers scale: no container names, no fixed host ports', () => {
    const all = services();
    for (const name of ['feature', 'scoring', 'sink']) {
      expect(all[name]!.container_name, name).toBeUndefined();
      expect((all[name]!.ports ?? []).map((p) => publishedPorts(p)), name).toEqual((all[name]!.ports ?? []).map(() => []));
    }
  });

  it('will not start without the tokens, and says to run npm run compose:tokens', () => {
    const problems = checkComposeFile(composeFile, {});
    expect(problems.map((p) => p.path).sort()).toEqual(
      Object.entries(serviceTokenVariables())
        .flatMap(([service, variables]) => Object.keys(variables).map((v) => `/services/${service}/environment/${v}`))
        .sort(),
    );
    for (const p of problems) expect(p.message).toMatch(/required variable EHR_\w+_TOKEN is missing a value: run npm run compose:tokens first/);
  });

  it('hands each service with doors its own scope and admin only, and starts it on 0.0.0.0 with them', async () => {
    const all = services();
    for (const name of SERVICE_NAMES) {
      const env = containerEnv(all[name]!, TOKENS);
      const wanted = serviceTokenVariables()[name] ?? {};
      expect(Object.keys(env).filter((v) => v.startsWith('AUTH_')).sort(), name).toEqual(Object.keys(wanted).sort());
      for (const [variable, token] of Object.entries(wanted)) expect(env[variable], `${name} ${variable}`).toBe(TOKENS[token]);
      // Off loopback, a service with doors would refuse to start without them: it starts.
      const { service } = manifestOf(name).assemble({ ...env, LOG_LEVEL: 'silent' }, { cwd: tmpdir() });
      await service.app.close();
    }
  });

  it('lets every service answer the name the others reach it by, and 421 any other', async () => {
    const all = services();
    const dashboardUrls = containerEnv(all.dashboard!, TOKENS).DASHBOARD_SERVICE_URLS!.split(',').map((pair) => new URL(pair.split('=')[1]!));
    for (const name of SERVICE_NAMES) {
      const env: Record<string, string> = { ...containerEnv(all[name]!, TOKENS), LOG_LEVEL: 'silent' };
      const { service } = manifestOf(name).assemble(env, { cwd: tmpdir() });
      const status = async (host: string) => (await service.app.inject({ url: '/health/live', headers: { host } })).statusCode;
      for (const url of dashboardUrls.filter((u) => u.hostname === name)) expect([name, url.host, await status(url.host)]).toEqual([name, url.host, 200]);
      expect([name, await status(`${name}:${env.PORT}`), await status('localhost:3000'), await status('attacker.example')]).toEqual([name, 200, 200, 421]);
      await service.app.close();
    }
    const published = containerEnv(services({ ...TOKENS, EHR_ALLOWED_HOSTS: 'ward.example.org' }).producer!, TOKENS).ALLOWED_HOSTS;
    expect(published?.split(',')).toContain('ward.example.org');
  });

  it('shows the dashboard the readiness of every pipeline service, and the alerting service (its alerts), at their addresses in the network', () => {
    const env = containerEnv(services().dashboard!, {});
    const urls = Object.fromEntries(env.DASHBOARD_SERVICE_URLS!.split(',').map((pair) => pair.split('=')));
    const expected = [...PIPELINE_SERVICES, 'alerting' as const];
    expect(Object.keys(urls).sort()).toEqual([...expected].sort());
    for (const name of expected) expect(urls[name]).toBe(`http://${name}:${serviceInfo(name).defaultPort}`);
  });

  it('creates the topics of @ehr/features in a one-shot step from the init image, never spelling a topic name', () => {
    const topics = services().topics!;
    expect(topics.build).toEqual({ context: '.', dockerfile: 'apps/init/Dockerfile' });
    expect(topics.restart).toBe('no');
    expect(topics.command).toEqual(['node', 'apps/init/dist/cli/topics.js']);
    const script = readFileSync(join(root, 'apps/init/src/topics.ts'), 'utf8');
    expect(script).toContain('ALL_TOPICS');
    expect(script).toContain('COMPACTED_TOPICS');
    expect(COMPACTED_TOPICS.size).toBeGreaterThan(0);
    for (const file of [composeFile, keyFile, join(root, 'apps/init/Dockerfile'), ...SERVICE_NAMES.map((n) => join(root, `services/${n}/Dockerfile`))]) {
      const text = readFileSync(file, 'utf8');
      for (const topic of ALL_TOPICS) expect(text, `${file} spells ${topic}`).not.toContain(topic);
    }
  });
});
