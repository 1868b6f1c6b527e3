// The layering of the repository, checked by `npm run lint` (and so by `npm test`):
//   packages/  libraries       → other libraries only
//   services/  deployables     → libraries only (never another service)
//   apps/      things you run  → libraries and services
//   tools/     dev and test    → anything
// and no runtime code (packages, services, apps) on tools. Tests and benchmarks may use
// anything, so only src/ is checked. Undeclared and unused dependencies: knip.json.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'library-above-itself',
      comment: 'A library (packages/) depends on libraries only: services, apps and tools build on it, never the reverse.',
      severity: 'error',
      from: { path: '^packages/[^/]+/src/' },
      to: { path: '^(services|apps|tools)/' },
    },
    {
      name: 'service-on-service',
      comment: 'A service depends on libraries only; what two services share belongs in a library.',
      severity: 'error',
      from: { path: '^services/([^/]+)/src/' },
      to: { path: '^services/', pathNot: '^services/$1/' },
    },
    {
      name: 'service-on-apps',
      comment: 'A service is deployed alone: it cannot need the launcher or the init steps.',
      severity: 'error',
      from: { path: '^services/[^/]+/src/' },
      to: { path: '^apps/' },
    },
    {
      name: 'runtime-on-tools',
      comment: 'Development and test tooling never ships: no library, service or app may import it.',
      severity: 'error',
      from: { path: '^(packages|services|apps)/[^/]+/src/' },
      to: { path: '^tools/' },
    },
    {
      name: 'no-circular',
      comment: 'A cycle makes the build order and the reading order undefined.',
      severity: 'error',
      from: { path: '^(packages|services|apps|tools)/[^/]+/src/' },
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'An import that resolves to nothing fails at run time.',
      severity: 'error',
      from: { path: '^(packages|services|apps|tools)/[^/]+/src/' },
      // `fhir/r4.js` is a type-only import that TypeScript finds in @types/fhir; no file exists at run time.
      to: { couldNotResolve: true, pathNot: '^fhir/r4\\.js$' },
    },
  ],
  options: {
    doNotFollow: { path: ['node_modules'] },
    exclude: { path: ['(^|/)dist/', '(^|/)node_modules/', '\\.d\\.ts$'] },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.depcruise.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['types', 'import', 'default'],
      extensions: ['.ts', '.js', '.mjs', '.json'],
      mainFields: ['types', 'module', 'main'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
