import { runMain } from './run-main.js';
import { parseCutOptions } from './cut-options.js';
import { selectBackend, describeBackend } from '../engine/backend.js';
import { loadNetwork } from '../engine/load-network.js';
import { cutReport, formatCutTable } from '../model/cut-report.js';
import { createSplitRunner } from '../engine/split-runner.js';
import { verifySplits } from '../engine/verify.js';

runMain('dnn-cut', async () => {
  const o = parseCutOptions(process.argv.slice(2));
  const backend = await selectBackend(o.backend, { threads: o.threads });
  process.stderr.write(`${describeBackend(backend)}\n`);
  const network = await loadNetwork(o.network, { seed: o.seed, inputShape: o.inputShape });
  if (network.note) process.stderr.write(`note: ${network.note}\n`);
  let verified;
  if (o.verify) {
    const runner = createSplitRunner(network);
    try {
      verified = await verifySplits(network, runner);
    } finally {
      await runner.dispose();
    }
  }
  const report = cutReport(network, backend.name, verified);
  process.stdout.write(o.json ? `${JSON.stringify(report)}\n` : formatCutTable(report));
  if (verified && verified.failed.length > 0) {
    process.stderr.write(`dnn-cut: ${verified.failed.length} of ${network.cuts.length} points do not reproduce the full model; do not trust timings of those splits\n`);
    process.exitCode = 1;
  }
});
