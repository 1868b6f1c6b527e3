// A service run alone (`node services/<name>/dist/main.js`, an image's CMD) takes no flags:
// it is configured by the environment. --help says so, and a stray flag is refused before
// anything connects or listens (the @ehr/cli convention: usage and exit 0, or exit 2).
import { createCommand, type Command, type CommandOutput } from '@ehr/cli';
import type { TObject } from '@sinclair/typebox';

export function serviceCommand(manifest: { name: string; summary: string; defaultPort: number; env: TObject }, output?: CommandOutput): Command {
  const variables = Object.keys(manifest.env.properties).sort();
  return createCommand(manifest.name, `The ${manifest.name} service: ${manifest.summary}.`, output)
    .usage(`   (node services/${manifest.name}/dist/main.js)`)
    .addHelpText('after', `\nConfigured by the environment (README.md, Configuration; PORT defaults to ${manifest.defaultPort}):\n  ${variables.join(', ')}`);
}
