import { splitArm } from '../analysis/arms.js';
import { loadResultFiles } from '../analysis/load-results.js';
import { buildReport } from '../analysis/build-report.js';
import { gainWithInterval } from '../analysis/condition-labels.js';
import type { ConditionReport, NetworkReport, RaceSummary } from '../analysis/findings.js';
import { powerSentence } from '../analysis/power.js';

/**
 * The end of a --quick run: the best point under each condition, one line each (dnn-report has the
 * rest). With encoded arms (the quick look's default: a JPEG at the input, f16/int8 inside) the best
 * (point, codec) within the fidelity budget, then what the float32 baseline alone would answer, so
 * the difference the encodings make is in view. A raced run (--race) ends with what racing saved.
 */
export function printBestPoints(file: string, out: NodeJS.WritableStream = process.stdout): void {
  const loaded = loadResultFiles([file]);
  const report = buildReport(loaded.networks, { metric: 'p50', minGain: 0.05 });
  for (const n of report.networks) {
    const encoded = n.fidelity_budget !== undefined;
    const what = encoded ? `best (point, codec) per condition, within ${n.fidelity_budget!.max_agreement_loss} point of top-1 agreement with float32` : 'best point per condition';
    out.write(`${what} (${n.network}, p50 total; ${n.power ? powerSentence(n.power) : n.significance_note}):\n`);
    for (const c of n.conditions) out.write(`  ${c.key.padEnd(62)} ${c.best.cut.padEnd(24)} ${c.best.total_ms.toFixed(1).padStart(9)} ms${moveFlag(c, n.deployed.cut)}\n`);
    if (encoded) printF32Baseline(n, out);
    if (n.race) out.write(`${raceSentence(n.race)}\n`);
  }
}

/** What racing saved (a --quick --race run): cells stopped early and recorded inferences. */
function raceSentence(r: RaceSummary): string {
  const recorded = r.inferences_exhaustive - r.inferences_saved;
  const fewer = recorded > 0 ? `, ${(r.inferences_exhaustive / recorded).toFixed(1)}x fewer` : '';
  return `racing: ${r.raced_cells} of ${r.cells} cells stopped early; ${recorded} of an exhaustive ${r.inferences_exhaustive} samples recorded (${r.inferences_saved} saved${fewer}; warm-ups apart)`;
}

function moveFlag(c: ConditionReport, deployed: string): string {
  if (c.repartition) return `  <- move from ${deployed} (${gainWithInterval(c.gain, c)}, significant)`;
  if (c.move_not_significant) return `  (${gainWithInterval(c.gain, c)} over ${deployed}: not significant)`;
  return '';
}

/** The closing lines: the float32 answer per condition, and the moves the encodings remove or create. */
function printF32Baseline(n: NetworkReport, out: NodeJS.WritableStream): void {
  const rows = n.conditions.filter((c) => c.best_f32);
  if (rows.length === 0) return;
  out.write(`with float32 alone (the preprocessed input and every tensor raw), the answer would be (deployed ${n.deployed_f32 ?? '-'}):\n`);
  for (const c of rows) {
    const f = c.best_f32!;
    const same = f.cut === c.best.cut;
    const vs = same ? ' (the same)' : ` (the encoded answer ${c.best.total_ms <= f.total_ms ? `${(f.total_ms / c.best.total_ms).toFixed(2)}x faster` : `${(c.best.total_ms / f.total_ms).toFixed(2)}x slower`})`;
    out.write(`  ${c.key.padEnd(62)} ${f.cut.padEnd(24)} ${f.total_ms.toFixed(1).padStart(9)} ms${f.repartition ? `  <- move from ${n.deployed_f32}` : ''}${vs}\n`);
  }
  for (const e of (n.encoding_changes ?? []).filter((x) => x.move !== null)) {
    out.write(
      e.move === 'removed'
        ? `  encoding removes the move at ${e.condition}: float32 must move from ${n.deployed_f32} to ${e.best_f32}; over encoded arms the split need not move from ${n.deployed.cut}\n`
        : `  encoding creates a move at ${e.condition}: float32 need not move from ${n.deployed_f32}; over encoded arms the split must move from ${n.deployed.cut} to ${splitArm(e.best).cut} (${e.best})\n`,
    );
  }
  const excluded = n.fidelity_budget?.excluded ?? [];
  if (excluded.length) out.write(`  left out by the fidelity budget: ${excluded.map((x) => `${x.arm} (${x.top1_loss === null ? 'no fidelity recorded' : `-${x.top1_loss.toFixed(1)} points`})`).join(', ')}\n`);
}
