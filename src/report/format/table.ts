import { conditionLabel, gainWithInterval, interval, levelLabel, pct, shortFactor, varyingFactors } from '../../analysis/condition-labels.js';
import type { FactorName, NetworkReport, Report } from '../../analysis/findings.js';
import { configName, tierLabel } from '../../analysis/tier-kinds.js';
import { EDGE_HEADER, SCALING_TITLE, STREAM_HEADER, answerLine, edgeRow, fpsLabel, modelLines, scalingLine, scenarioTitle, streamRow } from './stream-labels.js';
import { TIER_HEADER, additiveLine, bestLabel, labelled, tierMatrix, tierRow, tiersLine, versusLabel } from './tier-labels.js';
import { adaptiveHeader, adaptiveNotes, adaptiveRows, adaptiveTitle, baselineLine, baselineOf, bytesLabel, deployedLine, describeTestbed, encodingLines, FACTOR_LABEL, movedLabel, ms, predictedLine, raceLine, racedCount, racedTag, summaryLine, thresholdLine, tieSetLabel, times } from './labels.js';

/** The report for a terminal: the same essentials as the JSON, as aligned text tables. */
export function formatTable(report: Report): string {
  const parts = report.networks.map((n) => network(n, report));
  if (report.edge_scaling?.length) parts.push(`== ${SCALING_TITLE}\n${report.edge_scaling.map((r) => `  ${scalingLine(r)}`).join('\n')}\n`);
  if (report.cross_testbed.length) parts.push(crossTestbedTable(report));
  for (const e of report.adaptive) parts.push(`${adaptiveTitle(e)}\n${table(adaptiveHeader(e), adaptiveRows(e))}\n${adaptiveNotes(e).map((l) => `  ${l}\n`).join('')}`);
  return parts.join('\n');
}

/** Per network and condition, the best point on each testbed (the hardware question). */
function crossTestbedTable(report: Report): string {
  const out: string[] = ['== cross-testbed: the best point per condition on each testbed (same = one point is best or tied on all)'];
  for (const network of [...new Set(report.cross_testbed.map((r) => r.network))]) {
    const rows = report.cross_testbed.filter((r) => r.network === network);
    const ids = Object.keys(rows[0]!.best);
    out.push(`${network}: ${ids.map((id) => `${id} = ${describeTestbed(report.networks.find((n) => n.network === network && n.testbed_id === id)?.testbed ?? null)}`).join('; ')}`);
    out.push(
      table(
        ['condition', ...ids, 'same'],
        rows.map((r) => [varyingPart(r.condition, rows.map((x) => x.condition)), ...ids.map((id) => (r.best[id] ? `${r.best[id]!.cut} (${ms(r.best[id]!.total_ms)})` : '-')), r.same_best ? 'yes' : 'no']),
      ),
    );
  }
  return `${out.join('\n')}\n`;
}

/** One network: what it is and where it was measured, its baseline points, sensitivity, rate thresholds, drift and every condition. */
function network(n: NetworkReport, report: Report): string {
  if (n.tiers) return tierNetwork(n, report);
  const varying = varyingFactors(n);
  const predicted = predictedLine(n);
  const out: string[] = [...headerLines(n, report, varying, predicted), '', ...(n.scenario ? streamLines(n, varying) : []), ...baselinePoints(n)];
  if (n.summary.sensitivity.length) out.push(...sensitivityLines(n, varying), '');
  if (n.rate_thresholds?.length) out.push(...thresholdLines(n), '');
  if (n.drift) out.push(...driftLines(n), '');
  out.push(...conditionsTable(n, varying, predicted !== ''));
  return `${out.join('\n')}\n`;
}

/**
 * A three-tier run: per condition the best (x, y) with the interval of its median, the best three-tier
 * against the best two-tier configuration, the additive check, and each condition's matrix of totals
 * (x rows, y columns; * = best, - = not measured).
 */
function tierNetwork(n: NetworkReport, report: Report): string {
  const varying = varyingFactors(n);
  const named = labelled(n);
  const predicted = predictedLine(n) || (n.predicted_from !== undefined ? `PREDICTED from ${n.predicted_from} measured condition(s) by the three-tier link model, not measured` : '');
  const out: string[] = [...headerLines(named, report, varying, predicted).map((l, i) => (i === 0 ? l.replace(/ \(/, ' [three tiers] (') : l)), tiersLine(n)];
  const additive = additiveLine(n, varying);
  if (additive) out.push(additive);
  out.push('');
  if (n.summary.sensitivity.length) out.push(...sensitivityLines(named, varying), '');
  if (n.drift) out.push(...driftLines(n), '');
  out.push(`conditions${predicted ? ' (predicted)' : ''} (best x|y with the interval of its median; 3 vs 2 tiers: best two-tier / best three-tier - 1 with its interval, * = significant; tie set = configurations not significantly slower than the best):`);
  out.push(table([...varying.map(shortFactor), ...TIER_HEADER, ''], n.conditions.map((c) => [...varying.map((f) => levelLabel(c.factors[f] ?? null)), ...tierRow(c), c.repartition ? '*' : c.move_not_significant ? '?' : ''])));
  for (const c of n.conditions) {
    out.push('', `${conditionLabel(c.factors, varying)}: best ${bestLabel(c.tiers!)}; ${versusLabel(c.tiers!)}`);
    const m = tierMatrix(n, c);
    const best = configName(c.tiers!.best);
    out.push(
      table(
        ['x \\ y', ...m.ys],
        m.xs.map((x) => [x, ...m.ys.map((y) => {
          const p = m.cell(x, y);
          return p === undefined ? '' : p === null ? '-' : `${ms(p.total_ms)}${tierLabel(x, y) === best ? '*' : ''}`;
        })]),
      ),
    );
  }
  return `${out.join('\n')}\n`;
}

function headerLines(n: NetworkReport, report: Report, varying: FactorName[], predicted: string): string[] {
  return [
    `== ${n.network}${n.scenario || (n.edge_count ?? 1) > 1 ? ` [${scenarioTitle(n)}]` : ''} (${n.sources.join(', ')}; latencies in ms at ${report.metric})`,
    ...(predicted ? [predicted] : []),
    `testbed ${n.testbed_id}: ${describeTestbed(n.testbed)}`,
    baselineLine(n, varying),
    deployedLine(n),
    summaryLine(n, report.min_gain, varying, report.confidence),
    ...encodingLines(n, varying),
    `significance: ${n.significance_note}`,
    ...(n.race ? [raceLine(n)] : []),
  ];
}

/**
 * A scenario run: per condition and point its frames/s, drops, latency percentiles and queueing;
 * then the answer for streams per condition, the pipeline model and each edge's figures.
 */
function streamLines(n: NetworkReport, varying: FactorName[]): string[] {
  const out = [`streams (fps: frames/s completed [interval]; drop: dropped / offered; p50/p90/p99: arrival -> result, ms; queue: p50 ms before the edge computes and in the cloud's queue):`];
  out.push(
    table(
      [...varying.map(shortFactor), ...STREAM_HEADER],
      n.conditions.flatMap((c) => c.cuts.map((p) => [...varying.map((f) => levelLabel(c.factors[f] ?? null)), ...streamRow(p, c.best_fps?.cut)])),
    ),
  );
  if (n.stream_answers?.length) out.push('answer for streams:', ...n.stream_answers.map((a) => `  ${answerLine(a, n, varying)}`));
  out.push(...modelLines(n, varying));
  for (const e of n.edges ?? []) {
    out.push(`edge ${e.edge}:`);
    out.push(table(EDGE_HEADER, e.cells.map((x) => edgeRow(x, n, varying))));
  }
  for (const w of n.sample_warnings ?? []) out.push(`WARNING ${w}`);
  return [...out, ''];
}

/** Every point at the baseline condition, then how much faster its best is than the extreme points. */
function baselinePoints(n: NetworkReport): string[] {
  const base = baselineOf(n);
  // data with codecs: each arm's bytes per request (a count) and its encode/decode times
  const codecs = base.cuts.some((p) => p.codec !== undefined);
  return [
    `points at the baseline condition${codecs ? ' (POINT@CODEC: an encoded crossing; bytes: INFER frame bytes per request)' : ''}:`,
    table(
      ['cut', 'index', 'edge', ...(codecs ? ['encode'] : []), 'transfer', ...(codecs ? ['decode'] : []), 'cloud', 'total', 'total p95', ...(codecs ? ['bytes'] : []), 'samples', 'slower than best', ''],
      base.cuts.map((p) => [
        p.cut,
        String(p.index),
        ms(p.edge_ms),
        ...(codecs ? [ms(p.encode_ms ?? null)] : []),
        ms(p.transfer_ms),
        ...(codecs ? [ms(p.decode_ms ?? null)] : []),
        ms(p.cloud_ms),
        ms(p.total_ms),
        ms(p.total_p95_ms),
        ...(codecs ? [bytesLabel(p.bytes ?? null)] : []),
        String(p.samples),
        p.vs_best && p.cut !== base.best.cut ? `${pct(p.vs_best.gain)} ${interval(p.vs_best.low, p.vs_best.high)}${racedTag(p)}` : racedTag(p).trim() || '-',
        p.within_budget === false ? 'outside the fidelity budget' : mark(p.cut, base.best.cut, n.deployed.cut, p.vs_best?.tie),
      ]),
    ),
    `best ${base.best.cut}: ${times(base.speedup_vs_cloud_only)} faster than cloud-only (first point ${base.cloud_only?.cut ?? '-'}), ` +
      `${times(base.speedup_vs_edge_only)} faster than edge-only (last point ${base.edge_only?.cut ?? '-'})`,
    '',
  ];
}

/** Per factor, the deployed point's latency by level and how often the best point moved; then each move and effect. */
function sensitivityLines(n: NetworkReport, varying: FactorName[]): string[] {
  const out = ['sensitivity (pairs of conditions that differ in one factor only):'];
  out.push(
    table(
      ['factor', 'levels', 'deployed latency by level', 'deployed change mean', 'max', 'best point moved'],
      n.summary.sensitivity.map((s) => [
        FACTOR_LABEL[s.factor],
        s.levels.map((l) => levelLabel(l.value)).join('/'),
        s.levels.map((l) => ms(l.deployed_ms)).join(' / '),
        pct(s.deployed_change_mean),
        pct(s.deployed_change_max),
        movedLabel(s),
      ]),
    ),
  );
  const label = (key: string) => conditionLabel(n.conditions.find((c) => c.key === key)!.factors, varying);
  for (const s of n.summary.sensitivity) {
    for (const m of s.moves) {
      if (m.significance === 'unknown') continue;
      const raced = m.from_raced_samples === undefined ? '' : ` (${m.from_cut} left the race there after ${m.from_raced_samples} sample${m.from_raced_samples === 1 ? '' : 's'})`;
      out.push(`  moved: ${label(m.from)} -> ${label(m.to)}: best ${m.from_cut} -> ${m.to_cut}, ${pct(m.gain)} ${interval(m.low, m.high)} ${m.significance}${raced}`);
    }
    const known = s.effects.filter((e) => e.significance !== 'unknown');
    if (known.length && known.length <= 6) {
      for (const e of known) out.push(`  effect: ${label(e.from)} -> ${label(e.to)}: deployed ${n.deployed.cut} ${pct(e.change)} ${interval(e.low, e.high)} ${e.significance}`);
    } else if (known.length) {
      out.push(`  effect of ${FACTOR_LABEL[s.factor]} on the deployed point: significant in ${s.deployed_change_significant} of ${known.length} pairs`);
    }
  }
  return out;
}

function thresholdLines(n: NetworkReport): string[] {
  return ['rate thresholds (cost model, no added delay): the best point per rate range in Mbit/s, per stress level:', ...n.rate_thresholds!.map((t) => `  ${t.stress}: ${thresholdLine(t.ranges)}`)];
}

/** Every condition: its best point, the deployed point's total and gain, and the tie set where significance is known. */
function conditionsTable(n: NetworkReport, varying: FactorName[], predicted: boolean): string[] {
  const known = n.conditions.some((c) => c.significance !== 'unknown');
  const f32 = n.conditions.some((c) => c.best_f32 !== undefined);
  // scenario runs, and --predict beside one: the best point for frames/s (predicted: by the pipeline model)
  const fps = n.conditions.some((c) => c.best_fps !== undefined);
  // a raced run: how many points the race dropped in each condition; a raced-out deployed point's gain says on how many samples it rests
  const raced = n.conditions.some((c) => c.cuts.some((p) => p.raced));
  return [
    `conditions${predicted ? ' (predicted)' : ''} (* = repartition${known ? ', ? = best point differs by >= min-gain but not significantly; tie set = points not significantly slower than the best' : ''}${raced ? '; raced = points stopped early' : ''}):`,
    table(
      [...varying.map(shortFactor), 'best', 'best total', ...(f32 ? ['f32 best', 'f32 total'] : []), ...(fps ? ['best fps', 'fps'] : []), 'deployed total', known ? 'gain [interval]' : 'gain', ...(known ? ['tie set'] : []), ...(raced ? ['raced'] : []), ''],
      n.conditions.map((c) => [
        ...varying.map((f) => levelLabel(c.factors[f] ?? null)),
        c.best.cut,
        ms(c.best.total_ms),
        ...(f32 ? [c.best_f32 ? `${c.best_f32.cut}${c.best_f32.repartition ? ' *' : ''}` : '-', ms(c.best_f32?.total_ms ?? null)] : []),
        ...(fps ? [c.best_fps?.cut ?? '-', fpsLabel(c.best_fps?.fps)] : []),
        ms(c.deployed_ms),
        `${gainWithInterval(c.gain, c)}${racedTag(c.cuts.find((p) => p.cut === n.deployed.cut))}`,
        ...(known ? [tieSetLabel(c.tie_set)] : []),
        ...(raced ? [racedCount(c)] : []),
        c.repartition ? '*' : c.move_not_significant ? '?' : '',
      ]),
    ),
  ];
}

/** The reference cell through the run, and a warning per stretch where it moved more than the gain claimed there. */
function driftLines(n: NetworkReport): string[] {
  const d = n.drift!;
  const out = [`drift: the reference cell (${d.reference.cut} at the baseline) measured ${d.points.length} times; largest change ${pct(d.max_change)} against the first`];
  out.push(`  ${d.points.map((p) => `ref ${p.ref} ${p.at.slice(11, 19)} ${ms(p.total_ms)} ms (${pct(p.change)})`).join('; ')}`);
  for (const w of n.drift_warnings) out.push(`  WARNING ${w}`);
  return out;
}

function mark(cut: string, best: string, deployed: string, tie?: boolean): string {
  return [cut === best ? 'best' : tie ? 'tie' : '', cut === deployed ? 'deployed' : ''].filter(Boolean).join(', ');
}

/** "net=10 ecpu=50": the key=value parts of a condition key that vary among `all`. */
function varyingPart(key: string, all: string[]): string {
  const parts = (k: string) => k.split(';');
  const varying = parts(key).filter((p, i) => all.some((k) => parts(k)[i] !== p));
  return varying.length ? varying.join(' ') : key;
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
