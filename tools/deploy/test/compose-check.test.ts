// Each check of checkComposeFile, proven on a small valid project and on one broken copy per check.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { checkComposeFile, type ComposeDocument } from '../src/compose/check.js';

const HEALTHY_DOCKERFILE = 'FROM node:20-bookworm-slim\nHEALTHCHECK CMD ["node", "-e", "process.exit(0)"]\nCMD ["node", "main.js"]\n';
const PLAIN_DOCKERFILE = 'FROM node:20-bookworm-slim AS build\nRUN true\nFROM node:20-bookworm-slim\nCMD ["node", "main.js"]\n';

function validDocument(): ComposeDocument {
  return {
    services: {
      kafka: { image: 'apache/kafka:3.9.2', healthcheck: { test: ['CMD', 'true'], interval: '5s', start_period: '1m30s' }, ports: ['127.0.0.1:9092:9092'] },
      app: {
        build: { context: './app' },
        depends_on: { kafka: { condition: 'service_healthy' } },
        ports: ['${BIND:-127.0.0.1}:3000:3000', '127.0.0.1::3001'],
        volumes: ['data:/app/data', './local:/mnt/local'],
      },
      init: { build: './plain', depends_on: ['kafka'] },
      web: { image: 'nginx', depends_on: { app: { condition: 'service_healthy' }, init: { condition: 'service_completed_successfully' } } },
    },
    volumes: { data: null },
  };
}

let dir: string;
let counter = 0;
function check(document: unknown, env: Record<string, string> = {}) {
  const file = join(dir, `compose-${counter++}.yml`);
  writeFileSync(file, typeof document === 'string' ? document : stringify(document));
  return checkComposeFile(file, env);
}
function mutate(change: (doc: ComposeDocument & { services: Record<string, Record<string, unknown>> }) => void) {
  const doc = validDocument() as ComposeDocument & { services: Record<string, Record<string, unknown>> };
  change(doc);
  return check(doc);
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'compose-check-'));
  mkdirSync(join(dir, 'app'));
  mkdirSync(join(dir, 'plain'));
  writeFileSync(join(dir, 'app', 'Dockerfile'), HEALTHY_DOCKERFILE);
  writeFileSync(join(dir, 'plain', 'Dockerfile'), PLAIN_DOCKERFILE);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('checkComposeFile', () => {
  it('passes a valid project (a Dockerfile HEALTHCHECK counts as a health check)', () => {
    expect(check(validDocument())).toEqual([]);
  });

  describe('Compose specification schema', () => {
    it('catches an unknown property', () => {
      expect(mutate((d) => (d.services.app!.dependson = ['kafka']))).toEqual([expect.objectContaining({ path: '/services/app', message: "unknown property 'dependson'" })]);
    });
    it('catches a duration Compose cannot read', () => {
      expect(mutate((d) => ((d.services.kafka!.healthcheck as { interval: string }).interval = '5 seconds'))).toEqual([
        expect.objectContaining({ path: '/services/kafka/healthcheck/interval', message: expect.stringContaining('duration') as string }),
      ]);
    });
    it('catches an unknown depends_on condition', () => {
      const problems = mutate((d) => (d.services.web!.depends_on = { app: { condition: 'service_ready' } }));
      expect(problems.some((p) => p.path.startsWith('/services/web/depends_on'))).toBe(true);
    });
    it('catches a malformed port mapping', () => {
      expect(mutate((d) => (d.services.app!.ports = ['3000:3000:tcp']))).not.toEqual([]);
    });
    it('catches a service name Compose refuses and a wrong top-level key', () => {
      expect(mutate((d) => (d.services['bad name'] = { image: 'x' }))).not.toEqual([]);
      expect(check({ ...validDocument(), servcies: {} })).toEqual([expect.objectContaining({ message: "unknown property 'servcies'" })]);
    });
    it('catches YAML that is not a mapping', () => {
      expect(check('- just\n- a list\n')).toEqual([expect.objectContaining({ message: expect.stringContaining('mapping') as string })]);
      expect(check('services: [unclosed\n')[0]?.message).toMatch(/YAML/);
    });
  });

  describe('interpolation', () => {
    it('fails on a required variable that is not set, and passes once it is', () => {
      const doc = validDocument() as { services: Record<string, { image?: string }> };
      doc.services.web!.image = '${WEB_IMAGE:?set WEB_IMAGE}';
      expect(check(doc)).toEqual([expect.objectContaining({ path: '/services/web/image', message: expect.stringContaining('WEB_IMAGE') as string })]);
      expect(check(doc, { WEB_IMAGE: 'nginx' })).toEqual([]);
    });
  });

  describe('cross-references', () => {
    it('catches a depends_on target that does not exist (both syntaxes)', () => {
      expect(mutate((d) => (d.services.init!.depends_on = ['kafak']))).toEqual([
        expect.objectContaining({ path: '/services/init/depends_on/kafak', message: expect.stringContaining("'kafak'") as string }),
      ]);
      expect(mutate((d) => (d.services.web!.depends_on = { ap: { condition: 'service_started' } }))[0]?.message).toMatch(/'ap'/);
    });
    it('catches service_healthy on a service without a health check', () => {
      expect(mutate((d) => delete d.services.kafka!.healthcheck)).toEqual([
        expect.objectContaining({ path: '/services/app/depends_on/kafka', message: expect.stringContaining('no health check') as string }),
      ]);
    });
    it('catches service_healthy on a service whose Dockerfile has no HEALTHCHECK', () => {
      const problems = mutate((d) => (d.services.web!.depends_on = { init: { condition: 'service_healthy' } }));
      expect(problems).toEqual([expect.objectContaining({ path: '/services/web/depends_on/init' })]);
    });
    it('catches a disabled health check', () => {
      expect(mutate((d) => (d.services.kafka!.healthcheck = { disable: true }))).toHaveLength(1);
      expect(mutate((d) => (d.services.app!.healthcheck = { test: ['NONE'] }))).toHaveLength(1);
    });
    it('catches a build context that is not a folder and a Dockerfile that does not exist', () => {
      // (app's health check lived in that Dockerfile, so web's service_healthy is reported too)
      expect(mutate((d) => (d.services.app!.build = { context: './nowhere' }))).toContainEqual(
        expect.objectContaining({ path: '/services/app/build', message: expect.stringContaining('not a folder') as string }),
      );
      expect(mutate((d) => (d.services.init!.build = { context: '.', dockerfile: 'plain/Dockerfile.missing' }))).toEqual([
        expect.objectContaining({ path: '/services/init/build', message: expect.stringContaining('does not exist') as string }),
      ]);
    });
    it('catches a build target the Dockerfile does not have', () => {
      expect(mutate((d) => (d.services.init!.build = { context: './plain', target: 'runtime' }))[0]?.message).toMatch(/no stage 'runtime'/);
      expect(mutate((d) => (d.services.init!.build = { context: './plain', target: 'build' }))).toEqual([]);
    });
    it('catches a host port published twice, also through a range', () => {
      expect(mutate((d) => (d.services.web!.ports = ['3000:80']))).toEqual([
        expect.objectContaining({ path: '/services/web/ports/0', message: "host port 3000/tcp is already published by 'app'" }),
      ]);
      expect(mutate((d) => (d.services.web!.ports = ['2999-3000:80']))).toHaveLength(1);
      expect(mutate((d) => (d.services.web!.ports = ['3000:80/udp', '127.0.0.1::3000']))).toEqual([]);
    });
    it('catches a named volume that is not declared', () => {
      expect(mutate((d) => (d.services.web!.volumes = ['cache:/cache']))).toEqual([
        expect.objectContaining({ message: "named volume 'cache' is not declared under top-level volumes" }),
      ]);
    });
    it('catches a dependency cycle', () => {
      const problems = mutate((d) => (d.services.kafka!.depends_on = ['web']));
      expect(problems.map((p) => p.message)).toContainEqual(expect.stringMatching(/^dependency cycle: (\w+ → ){3}\w+$/));
    });
    it('catches a service with neither image nor build', () => {
      expect(mutate((d) => delete d.services.web!.image)).toEqual([expect.objectContaining({ message: 'has neither image nor build' })]);
    });
    it('catches an undeclared secret and a secret file that does not exist', () => {
      expect(mutate((d) => (d.services.web!.secrets = ['key']))).toEqual([expect.objectContaining({ message: expect.stringContaining("secret 'key'") as string })]);
      const doc = validDocument() as ComposeDocument & { services: Record<string, Record<string, unknown>> };
      doc.services.web!.secrets = ['key'];
      doc.secrets = { key: { file: './missing.pem' } };
      expect(check(doc)).toEqual([expect.objectContaining({ path: '/secrets/key/file' })]);
    });
  });

  it('combines files like docker compose -f a -f b', () => {
    const base = join(dir, 'base.yml');
    const override = join(dir, 'override.yml');
    writeFileSync(base, stringify(validDocument()));
    writeFileSync(override, stringify({ services: { web: { ports: ['3000:80'] } } }));
    expect(checkComposeFile([base, override])).toEqual([expect.objectContaining({ message: expect.stringContaining('3000/tcp') as string })]);
  });
});
