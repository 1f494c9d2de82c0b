/**
 * The layering rules `npm run lint:deps` checks (and test/layering.test.ts runs in `npm test`).
 * Layering target: model -> engine -> protocol -> cloud / edge -> results -> analysis -> report;
 * src/relay/ (the middle tier of three) sits on cloud / edge: it is a cloud to its devices and an edge
 * to its cloud, so it composes their pieces, and neither of them imports it.
 * src/cli/ is thin commander wiring that nothing imports.
 *
 * Paths are matched relative to the folder cruised from, so the same rules hold for a copy of the
 * tree (the planted-violation test cruises one in a temp dir).
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'edge-not-report',
      comment: 'The run does not import the report: what both need lives in src/analysis/.',
      severity: 'error',
      from: { path: '^src/edge/' },
      to: { path: '^src/report/' },
    },
    {
      name: 'report-not-run',
      comment: 'The report reads results files; it does not import the run (src/edge/, src/cloud/, src/relay/). Shared logic lives in src/analysis/.',
      severity: 'error',
      from: { path: '^src/report/' },
      to: { path: '^src/(edge|cloud|relay)/' },
    },
    {
      name: 'cloud-not-report',
      comment: 'The cloud serves inference; it does not import the report.',
      severity: 'error',
      from: { path: '^src/cloud/' },
      to: { path: '^src/report/' },
    },
    {
      name: 'run-not-relay',
      comment: 'dnn-relay composes the cloud\'s server and the edge\'s link (src/relay/); the cloud and the edge do not import it.',
      severity: 'error',
      from: { path: '^src/(edge|cloud)/' },
      to: { path: '^src/relay/' },
    },
    {
      name: 'relay-serves-only',
      comment: 'The relay serves requests; results files, their analysis and the report are the device\'s and dnn-report\'s.',
      severity: 'error',
      from: { path: '^src/relay/' },
      to: { path: '^src/(results|analysis|report)/' },
    },
    {
      name: 'model-not-engine',
      comment: 'The model (graphs, partitions, ONNX files) sits below the engine that runs it.',
      severity: 'error',
      from: { path: '^src/model/' },
      to: { path: '^src/engine/' },
    },
    {
      name: 'nothing-imports-cli',
      comment: 'src/cli/ is commander wiring: move what others need out of it.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/cli/' },
      to: { path: '^src/cli/' },
    },
    {
      name: 'no-cycles',
      comment: 'No import cycles (type-only imports count too: they tie the modules just the same).',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'resolvable',
      comment: 'Every relative import resolves (were `./x.js` -> x.ts to stop resolving, the rules above would see no edges and pass).',
      severity: 'error',
      from: { path: '^src/' },
      // run-edge.ts requires the package.json beside dist/ at run time
      to: { couldNotResolve: true, pathNot: 'package[.]json$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // type-only imports (`import type`) are dependencies too
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    // resolve packages' subpath exports (`@bufbuild/protobuf/wire`) as Node does for an ES module
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'node', 'default'] },
  },
};
