import { makeProgram, backendOption, seedOption, threadsOption } from './common.js';
import { inputShapeOption } from './network-options.js';
import { runMain } from './run-main.js';
import { selectBackend, describeBackend, type BackendChoice } from '../engine/backend.js';
import { assertNetworkSpec, loadNetwork } from '../model/network.js';
import { ZOO_NAMES } from '../../models/index.js';
import { cutReport, formatCutTable } from '../model/cut-report.js';
import { createSplitRunner } from '../engine/split-runner.js';
import { verifySplits } from '../engine/verify.js';

runMain('dnn-cut', async () => {
  const program = makeProgram('dnn-cut', 'List the partition points of a network: where it can be split between edge and cloud.')
    .argument('<network>', `zoo name (${ZOO_NAMES.join(', ')}) or path to a TF.js model.json / Keras model.to_json() / .onnx file`)
    .option('--json', 'print one JSON object instead of the table')
    .option('--verify', 'run the full model and the split model at every point on the seeded input and show how far each split output is from the full one (max_abs_diff)')
    .addOption(backendOption())
    .addOption(threadsOption())
    .addOption(seedOption())
    .addOption(inputShapeOption());
  await program.parseAsync();
  const spec = program.args[0]!;
  const opts = program.opts<{ json?: boolean; verify?: boolean; backend: BackendChoice; threads?: number; seed: number; inputShape?: number[] }>();

  assertNetworkSpec(spec, opts.backend);
  const backend = await selectBackend(opts.backend, { threads: opts.threads });
  process.stderr.write(`${describeBackend(backend)}\n`);
  const network = await loadNetwork(spec, { seed: opts.seed, inputShape: opts.inputShape });
  if (network.note) process.stderr.write(`note: ${network.note}\n`);
  let verified;
  if (opts.verify) {
    const runner = createSplitRunner(network);
    try {
      verified = await verifySplits(network, runner);
    } finally {
      await runner.dispose();
    }
  }
  const report = cutReport(network, backend.name, verified);
  process.stdout.write(opts.json ? `${JSON.stringify(report)}\n` : formatCutTable(report));
  if (verified && verified.failed.length > 0) {
    process.stderr.write(`dnn-cut: ${verified.failed.length} of ${network.cuts.length} points do not reproduce the full model; do not trust timings of those splits\n`);
    process.exitCode = 1;
  }
});
