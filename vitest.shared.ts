// One vitest shape for every workspace: `unit` runs everything under test/ except
// test/kafka, `kafka` runs test/kafka against one real broker (see @ehr/kafka-local).
import { fileURLToPath } from 'node:url';
import { defineConfig, type ViteUserConfig } from 'vitest/config';

const kafkaGlobalSetup = fileURLToPath(new URL('./tools/kafka-local/dist/vitest-global-setup.js', import.meta.url));

export function workspaceTestConfig(overrides: { unitTimeoutMs?: number; kafkaTimeoutMs?: number } = {}): ViteUserConfig {
  return defineConfig({
    test: {
      projects: [
        {
          extends: true,
          test: {
            name: 'unit',
            include: ['test/**/*.test.ts'],
            exclude: ['test/kafka/**', '**/node_modules/**'],
            testTimeout: overrides.unitTimeoutMs ?? 30_000,
            hookTimeout: 60_000,
          },
        },
        {
          extends: true,
          test: {
            name: 'kafka',
            include: ['test/kafka/**/*.test.ts'],
            globalSetup: [kafkaGlobalSetup],
            testTimeout: overrides.kafkaTimeoutMs ?? 180_000,
            hookTimeout: 180_000,
            // Kafka tests share one broker and 2 cores: run files one at a time.
            fileParallelism: false,
          },
        },
      ],
    },
  });
}
