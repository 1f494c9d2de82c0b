import { loadResultFiles } from '../analysis/load-results.js';
import { buildReport } from '../analysis/build-report.js';
import { gainWithInterval } from '../analysis/condition-labels.js';
import { powerSentence } from '../analysis/power.js';

/** The end of a --quick run: the best point under each condition, one line each (dnn-report has the rest). */
export function printBestPoints(file: string, out: NodeJS.WritableStream = process.stdout): void {
  const loaded = loadResultFiles([file]);
  const report = buildReport(loaded.networks, { metric: 'p50', minGain: 0.05 });
  for (const n of report.networks) {
    out.write(`best point per condition (${n.network}, p50 total; ${n.power ? powerSentence(n.power) : n.significance_note}):\n`);
    for (const c of n.conditions) {
      const flag = c.repartition
        ? `  <- move from ${n.deployed.cut} (${gainWithInterval(c.gain, c)}, significant)`
        : c.move_not_significant
          ? `  (${gainWithInterval(c.gain, c)} over ${n.deployed.cut}: not significant)`
          : '';
      out.write(`  ${c.key.padEnd(62)} ${c.best.cut.padEnd(20)} ${c.best.total_ms.toFixed(1).padStart(9)} ms${flag}\n`);
    }
  }
}
