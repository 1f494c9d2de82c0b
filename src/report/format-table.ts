import { ADAPTIVE_HEADER, adaptiveRows, adaptiveTitle, FACTOR_LABEL, baselineLine, predictedLine, thresholdLine, baselineOf, deployedLine, levelLabel, ms, pct, shortFactor, summaryLine, times, varyingFactors } from './labels.js';
import type { NetworkReport, Report } from './model.js';

/** The report for a terminal: the same essentials as the JSON, as aligned text tables. */
export function formatTable(report: Report): string {
  const adaptive = report.adaptive.map((e) => `${adaptiveTitle(e)}\n${table(ADAPTIVE_HEADER, adaptiveRows(e))}\n`);
  return [...report.networks.map((n) => network(n, report)), ...adaptive].join('\n');
}

function network(n: NetworkReport, report: Report): string {
  const varying = varyingFactors(n);
  const base = baselineOf(n);
  const out: string[] = [];
  out.push(`== ${n.network} (${n.sources.join(', ')}; latencies in ms at ${report.metric})`);
  const predicted = predictedLine(n);
  if (predicted) out.push(predicted);
  out.push(baselineLine(n, varying));
  out.push(deployedLine(n));
  out.push(summaryLine(n, report.min_gain, varying));
  out.push('');
  out.push(`points at the baseline condition:`);
  out.push(
    table(
      ['cut', 'index', 'edge', 'transfer', 'cloud', 'total', 'total p95', 'samples', ''],
      base.cuts.map((p) => [p.cut, String(p.index), ms(p.edge_ms), ms(p.transfer_ms), ms(p.cloud_ms), ms(p.total_ms), ms(p.total_p95_ms), String(p.samples), mark(p.cut, base.best.cut, n.deployed.cut)]),
    ),
  );
  out.push(
    `best ${base.best.cut}: ${times(base.speedup_vs_cloud_only)} faster than cloud-only (first point ${base.cloud_only?.cut ?? '-'}), ` +
      `${times(base.speedup_vs_edge_only)} faster than edge-only (last point ${base.edge_only?.cut ?? '-'})`,
  );
  out.push('');
  if (n.summary.sensitivity.length) {
    out.push('sensitivity (pairs of conditions that differ in one factor only):');
    out.push(
      table(
        ['factor', 'levels', 'deployed latency by level', 'deployed change mean', 'max', 'best point moved'],
        n.summary.sensitivity.map((s) => [
          FACTOR_LABEL[s.factor],
          s.levels.map((l) => levelLabel(l.value)).join('/'),
          s.levels.map((l) => ms(l.deployed_ms)).join(' / '),
          pct(s.deployed_change_mean),
          pct(s.deployed_change_max),
          `${s.best_moved}/${s.pairs}${s.pairs ? ` (${(100 * s.best_moved_frac).toFixed(0)}%)` : ''}`,
        ]),
      ),
    );
    out.push('');
  }
  if (n.rate_thresholds?.length) {
    out.push('rate thresholds (cost model, no added delay): the best point per rate range in Mbit/s, per stress level:');
    for (const t of n.rate_thresholds) out.push(`  ${t.stress}: ${thresholdLine(t.ranges)}`);
    out.push('');
  }
  out.push(`conditions${predicted ? ' (predicted)' : ''} (* = repartition):`);
  out.push(
    table(
      [...varying.map(shortFactor), 'best', 'best total', 'deployed total', 'gain', ''],
      n.conditions.map((c) => [
        ...varying.map((f) => levelLabel(c.factors[f])),
        c.best.cut,
        ms(c.best.total_ms),
        ms(c.deployed_ms),
        pct(c.gain),
        c.repartition ? '*' : '',
      ]),
    ),
  );
  return `${out.join('\n')}\n`;
}

function mark(cut: string, best: string, deployed: string): string {
  return [cut === best ? 'best' : '', cut === deployed ? 'deployed' : ''].filter(Boolean).join(', ');
}

/** Left-aligned first column, right-aligned numbers. */
function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 || i === cells.length - 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].map((l) => `  ${l}`).join('\n');
}
