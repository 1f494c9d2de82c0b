import { runMain } from './run-main.js';
import { parseCutOptions } from './cut-options.js';
import { selectBackend, describeBackend } from '../engine/backend.js';
import { loadNetwork } from '../model/network.js';
import { cutReport, formatCutTable } from '../model/cut-report.js';

runMain('dnn-cut', async () => {
  const o = parseCutOptions(process.argv.slice(2));
  const backend = await selectBackend(o.backend);
  process.stderr.write(`${describeBackend(backend)}\n`);
  const network = await loadNetwork(o.network, { seed: o.seed, inputShape: o.inputShape });
  if (network.note) process.stderr.write(`note: ${network.note}\n`);
  const report = cutReport(network, backend.name);
  process.stdout.write(o.json ? `${JSON.stringify(report)}\n` : formatCutTable(report));
});
