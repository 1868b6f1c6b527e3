// Writes FEATURES.md from the feature catalog (run after building): npm run features:doc
import { writeFileSync } from 'node:fs';
import { renderFeatureDoc } from '../dist/index.js';

writeFileSync(new URL('../FEATURES.md', import.meta.url), renderFeatureDoc());
