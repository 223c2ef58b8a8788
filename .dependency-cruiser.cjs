// The layers of src/, each importing only the layers below it (value imports; a type-only
// import is erased and may point anywhere), and no import cycles. `npm run lint` runs it.
//   time, contract -> scenario -> planner -> domain.ts -> store, line -> engine
//   -> report, github, preview -> commands, demo -> action, cli
const LAYERS = [
  ['time', 'contract'],
  ['scenario'],
  ['planner'],
  ['domain\\.ts'],
  ['store', 'line'],
  ['engine'],
  ['report', 'github', 'preview'],
  ['commands', 'demo'],
  ['action', 'cli'],
];
const under = (names) => `^src/(${names.join('|')})(/|$)`;

const layerRules = LAYERS.slice(0, -1).map((names, i) => ({
  name: `layer-${names.join('-').replace(/\\\./g, '.')}`,
  comment: `${names.join(', ')} may not import a layer above it`,
  severity: 'error',
  from: { path: under(names) },
  to: { path: under(LAYERS.slice(i + 1).flat()), dependencyTypesNot: ['type-only'] },
}));

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'a module may not reach itself through its imports',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'engine-through-its-entry',
      comment: 'outside src/engine, the engine is imported from src/engine/index.ts only',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/engine/' },
      to: { path: '^src/engine/', pathNot: '^src/engine/index\\.ts$' },
    },
    ...layerRules,
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
