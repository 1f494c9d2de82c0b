import { adaptiveHeader, adaptiveNotes, adaptiveRows, adaptiveTitle, bytesLabel, encodingLines, predictedLine, thresholdLine, FACTOR_LABEL, baselineLine, baselineOf, deployedLine, maxGainCondition, movedLabel, ms, raceLine, racedCount, racedTag, summaryLine, tieSetLabel, times } from './labels.js';
import { conditionLabel, gainWithInterval, levelLabel, pct, varyingFactors } from '../../analysis/condition-labels.js';
import { selectCondition } from '../input/condition-selector.js';
import { describeTestbed } from './labels.js';
import type { ConditionReport, FactorName, NetworkReport, Report } from '../../analysis/findings.js';
import { configName, tierLabel } from '../../analysis/tier-kinds.js';
import { esc, heatMap, lineChart, scatterLogX, stackedBars, timelineChart } from './svg.js';
import { paretoFront } from '../../analysis/encodings.js';
import type { AdaptiveEntry } from '../../analysis/policy-runs.js';
import { TIER_HEADER, additiveLine, bestLabel, labelled, tierMatrix, tierRow, tiersLine, versusLabel } from './tier-labels.js';
import { EDGE_HEADER, SCALING_TITLE, STREAM_HEADER, answerLine, edgeRow, modelLines, scalingLine, scenarioTitle, streamRow } from './stream-labels.js';

export interface HtmlOptions {
  /** --condition: the condition of the second bar chart (default: where the gain is largest) */
  condition?: Map<string, string>;
}

/** One self-contained HTML page (inline CSS and SVG, no script, nothing fetched). */
export function formatHtml(report: Report, opts: HtmlOptions = {}): string {
  const scaling = report.edge_scaling?.length ? `<h2>Edges on one cloud</h2><p>${esc(SCALING_TITLE)}</p><ul>${report.edge_scaling.map((r) => `<li>${esc(scalingLine(r))}</li>`).join('')}</ul>` : '';
  const body = [...report.networks.map((n) => network(n, report, opts)), ...report.adaptive.map(adaptiveSection)].join('\n') + scaling + crossTestbedHtml(report);
  const warnings = report.warnings.length
    ? `<details><summary>${report.warnings.length} input warning(s)</summary><ul>${report.warnings.map((w) => `<li>${esc(w)}</li>`).join('')}</ul></details>`
    : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>dnn-report: ${esc(report.networks.map((n) => n.network).join(', '))}</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.2em; border-bottom: 1px solid #ccc; margin-top: 2em; }
svg { display: block; margin: 1em 0; max-width: 100%; height: auto; }
svg text { font: 11px system-ui, sans-serif; fill: #333; } svg .title { font-weight: 600; font-size: 12px; }
svg .grid { stroke: #e4e4e4; } svg .total { stroke: #000; stroke-width: 2; }
svg .mark { font-weight: 600; fill: #b00; } svg .best { fill: #fff; stroke: #000; stroke-width: 0.6; }
svg .deployed { fill: none; stroke: #e00; stroke-width: 1.5; } svg .line { fill: none; stroke-width: 2; }
.charts { display: flex; flex-wrap: wrap; gap: 1em; }
table { border-collapse: collapse; margin: 0.5em 0; } td, th { padding: 2px 8px; text-align: right; border-bottom: 1px solid #eee; }
td:first-child, th:first-child { text-align: left; } tr.repartition td { background: #fff3e0; }
</style>
</head>
<body>
<h1>Where to split: edge/cloud partition report</h1>
<p>Latencies in milliseconds at <b>${esc(report.metric)}</b>; repartitioning counts when the best point differs from the deployed one, gains at least ${esc(pct(report.min_gain))} and is significantly faster at ${esc((100 * report.confidence).toFixed(0))} % confidence (when the data record a spread); the tie set lists the points not significantly slower than the best.</p>
${warnings}
${body}
</body>
</html>
`;
}

/** Networks measured on several testbeds: the best point per condition on each. */
function crossTestbedHtml(report: Report): string {
  if (report.cross_testbed.length === 0) return '';
  const parts = ['<h2>Across testbeds</h2><p>Per condition, the best point on each testbed; "same" when one point is best or tied with the best on all.</p>'];
  for (const network of [...new Set(report.cross_testbed.map((r) => r.network))]) {
    const rows = report.cross_testbed.filter((r) => r.network === network);
    const ids = Object.keys(rows[0]!.best);
    parts.push(`<h3>${esc(network)}</h3><ul>${ids.map((id) => `<li>${esc(id)}: ${esc(describeTestbed(report.networks.find((n) => n.network === network && n.testbed_id === id)?.testbed ?? null))}</li>`).join('')}</ul>`);
    parts.push(
      `<table><tr><th>condition</th>${ids.map((id) => `<th>${esc(id)}</th>`).join('')}<th>same</th></tr>${rows
        .map((r) => `<tr><td>${esc(r.condition)}</td>${ids.map((id) => `<td>${r.best[id] ? `${esc(r.best[id]!.cut)} (${ms(r.best[id]!.total_ms)})` : '-'}</td>`).join('')}<td>${r.same_best ? 'yes' : 'no'}</td></tr>`)
        .join('')}</table>`,
    );
  }
  return parts.join('\n');
}

const SERIES = [
  { name: 'edge', color: '#4e79a7' },
  { name: 'transfer', color: '#f28e2b' },
  { name: 'cloud', color: '#59a14f' },
];

function network(n: NetworkReport, report: Report, opts: HtmlOptions): string {
  if (n.tiers) return tierSection(n, report);
  const varying = varyingFactors(n);
  const base = baselineOf(n);
  const selected = opts.condition && selectCondition(n, opts.condition);
  const chosen = selected ?? maxGainCondition(n);
  const what = selected ? `chosen condition (gain ${pct(chosen.gain)})` : `largest gain (${pct(chosen.gain)})`;
  const id = `${n.network}${n.testbed_id === 'unknown' ? '' : `-${n.testbed_id}`}${n.scenario ? `-${n.scenario}` : ''}${(n.edge_count ?? 1) > 1 ? `-${n.edge_count}edges` : ''}`.replace(/[^A-Za-z0-9_-]/g, '_');
  const parts: string[] = [];
  parts.push(`<section data-network="${esc(n.network)}">`);
  parts.push(`<h2>${esc(n.network)}${n.scenario || (n.edge_count ?? 1) > 1 ? ` [${esc(scenarioTitle(n))}]` : ''}${n.predicted_from !== undefined ? ' (predicted)' : ''}</h2>`);
  const predicted = predictedLine(n);
  if (predicted) parts.push(`<p class="predicted"><b>${esc(predicted)}</b></p>`);
  if (n.rate_thresholds?.length) {
    parts.push(`<p>Rate thresholds (cost model, no added delay): the best point per rate range in Mbit/s.</p><ul>${n.rate_thresholds.map((t) => `<li>${esc(t.stress)}: ${esc(thresholdLine(t.ranges))}</li>`).join('')}</ul>`);
  }
  parts.push(`<p>${esc(baselineLine(n, varying))}<br>${esc(deployedLine(n))}<br>${esc(summaryLine(n, report.min_gain, varying, report.confidence))}${encodingLines(n, varying).map((l) => `<br>${esc(l.trim())}`).join('')}<br>significance: ${esc(n.significance_note)}${n.race ? `<br><span class="raced">${esc(raceLine(n))}</span>` : ''}<br>testbed ${esc(n.testbed_id)}: ${esc(describeTestbed(n.testbed))}<br>sources: ${esc(n.sources.join(', '))}</p>`);
  if (n.scenario) parts.push(streamsHtml(id, n, varying));
  parts.push(`<div class="charts">`);
  parts.push(bars(`${id}-stacked-baseline`, `baseline: ${conditionLabel(base.factors, varying)}`, base, n, report));
  if (chosen !== base || selected) parts.push(bars(`${id}-stacked-condition`, `${what}: ${conditionLabel(chosen.factors, varying)}`, chosen, n, report));
  parts.push(`</div>`);
  parts.push(
    `<p>At the baseline the best point (${esc(base.best.cut)}) is ${esc(times(base.speedup_vs_cloud_only))} faster than cloud-only (first point) and ${esc(times(base.speedup_vs_edge_only))} faster than edge-only (last point).</p>`,
  );
  parts.push(heat(`${id}-heatmap`, n, varying, report));
  parts.push(`<div class="charts">`);
  for (const s of n.summary.sensitivity) {
    parts.push(
      lineChart({
        id: `${id}-factor-${s.factor}`,
        title: `${n.network}: latency vs ${FACTOR_LABEL[s.factor]}`,
        xLabel: FACTOR_LABEL[s.factor],
        unit: 'ms',
        x: s.levels.map((l) => levelLabel(l.value)),
        series: [
          { name: `deployed (${n.deployed.cut})`, color: '#e15759', values: s.levels.map((l) => l.deployed_ms) },
          { name: 'best point', color: '#4e79a7', values: s.levels.map((l) => l.best_ms) },
        ],
      }),
    );
  }
  parts.push(`</div>`);
  const fidelity = fidelityCharts(id, n);
  if (fidelity) parts.push(fidelity);
  parts.push(sensitivityTable(n));
  parts.push(conditionsTable(n, varying));
  parts.push(`</section>`);
  return parts.join('\n');
}

/**
 * A three-tier run: the summary lines, the additive check, a table of the conditions (best x|y with
 * its interval, best three-tier against best two-tier), and per condition a heat map of the median
 * total over (x rows, y columns): the best ringed, unmeasured configurations grey.
 */
function tierSection(n: NetworkReport, report: Report): string {
  const varying = varyingFactors(n);
  const named = labelled(n);
  const id = `${n.network}${n.testbed_id === 'unknown' ? '' : `-${n.testbed_id}`}-tiers`.replace(/[^A-Za-z0-9_-]/g, '_');
  const cells = (r: string[]) => r.map((v) => `<td>${esc(v)}</td>`).join('');
  const parts: string[] = [`<section data-network="${esc(n.network)}" data-tiers="3">`, `<h2>${esc(n.network)} [three tiers]${n.predicted_from !== undefined ? ' (predicted)' : ''}</h2>`];
  const lines = [tiersLine(n), additiveLine(n, varying), baselineLine(named, varying), deployedLine(named), summaryLine(named, report.min_gain, varying, report.confidence), `significance: ${n.significance_note}`, `testbed ${n.testbed_id}: ${describeTestbed(n.testbed)}`, `sources: ${n.sources.join(', ')}`].filter(Boolean);
  parts.push(`<p>${lines.map(esc).join('<br>')}</p>`);
  parts.push(`<table><tr><th>condition</th>${TIER_HEADER.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>${n.conditions.map((c) => `<tr${c.repartition ? ' class="repartition"' : ''}><td>${esc(conditionLabel(c.factors, varying))}</td>${cells(tierRow(c))}</tr>`).join('')}</table>`);
  parts.push(`<div class="charts">`);
  n.conditions.forEach((c, k) => {
    const m = tierMatrix(n, c);
    const label = conditionLabel(c.factors, varying);
    const best = configName(c.tiers!.best);
    parts.push(
      heatMap({
        id: `${id}-heatmap-${k}`,
        title: `${label}: total (${report.metric}) over x (rows) and y (columns); ring = best ${best}; grey = not measured`,
        columns: m.ys,
        legend: (v) => `${ms(v)} ms`,
        rows: m.xs.map((x) => ({
          label: x,
          best: x === c.tiers!.best.cut ? m.ys.indexOf(c.tiers!.best.cut2!) : -1,
          cells: m.ys.map((y) => {
            const p = m.cell(x, y);
            return p === undefined ? { value: null, title: '' } : p === null ? { value: null, unmeasured: true, title: `${tierLabel(x, y)}: not measured` } : { value: p.total_ms, title: `${label} | ${tierLabel(x, y)} (${p.uses}): ${ms(p.total_ms)} ms` };
          }),
        })),
      }),
    );
  });
  parts.push(`</div>`);
  parts.push(`<ul>${n.conditions.map((c) => `<li>${esc(`${conditionLabel(c.factors, varying)}: best ${bestLabel(c.tiers!)}; ${versusLabel(c.tiers!)}`)}</li>`).join('')}</ul>`);
  parts.push(sensitivityTable(named));
  parts.push(`</section>`);
  return parts.join('\n');
}

/** Colours of the conditions in the frames/s chart (cycled). */
const PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];
/** At most this many conditions in the frames/s chart (the table has them all). */
const FPS_CHART_CONDITIONS = 10;

/**
 * A scenario run: frames/s per point, one line per condition, each condition's best point for
 * frames/s ringed; the answer for streams; the pipeline model; the streams table.
 */
function streamsHtml(id: string, n: NetworkReport, varying: FactorName[]): string {
  const cells = (r: string[]) => r.map((v) => `<td>${esc(v)}</td>`).join('');
  const cuts = unionCuts(n);
  const shown = n.conditions.filter((c) => c.best_fps).slice(0, FPS_CHART_CONDITIONS);
  const chart = lineChart({
    id: `${id}-fps`,
    title: `${n.network} [${n.scenario}]: frames/s per point (ring: best for frames/s)`,
    xLabel: 'point',
    unit: 'fps',
    x: cuts,
    series: shown.map((c, k) => {
      const byCut = new Map(c.cuts.map((p) => [p.cut, p.fps ?? null]));
      return { name: conditionLabel(c.factors, varying), color: PALETTE[k % PALETTE.length]!, values: cuts.map((cut) => byCut.get(cut) ?? null), ring: cuts.indexOf(c.best_fps!.cut) };
    }),
  });
  const answers = (n.stream_answers ?? []).map((a) => `<li>${esc(answerLine(a, n, varying))}</li>`).join('');
  const model = modelLines(n, varying).map((l) => esc(l.trim())).join('<br>');
  const head = `<tr><th>condition</th>${STREAM_HEADER.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>`;
  const rows = n.conditions.flatMap((c) => c.cuts.map((p) => `<tr><td>${esc(conditionLabel(c.factors, varying))}</td>${cells(streamRow(p, c.best_fps?.cut))}</tr>`)).join('');
  const warn = (n.sample_warnings ?? []).map((w) => `<p class="warning">${esc(w)}</p>`).join('');
  const edges = (n.edges ?? [])
    .map((e) => `<details><summary>edge ${e.edge}</summary><table><tr>${EDGE_HEADER.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>${e.cells.map((x) => `<tr>${cells(edgeRow(x, n, varying))}</tr>`).join('')}</table></details>`)
    .join('');
  return `<h3>Streams: ${esc(scenarioTitle(n))}</h3>
<p>Frames/s completed per point and condition; drop = dropped / offered; latencies from a frame's arrival to its result (ms); queue = p50 before the edge computes and in the cloud's queue.</p>
${chart}
${answers ? `<p><b>The answer for streams</b></p><ul>${answers}</ul>` : ''}${model ? `<p>${model}</p>` : ''}${warn}
<table>${head}${rows}</table>${edges}`;
}

/**
 * Data with encoded arms and recorded fidelity: per point, bytes per request against top-1 agreement
 * with f32, one dot per codec, the Pareto front joined, the chosen pair (the deployed arm) ringed.
 */
function fidelityCharts(id: string, n: NetworkReport): string {
  const arms = (n.fidelity_budget?.arms ?? []).filter((a) => a.bytes !== null && a.bytes > 0 && a.top1_agreement !== null);
  if (!arms.some((a) => a.codec !== 'f32')) return '';
  const points = [...new Set(arms.map((a) => a.cut))].filter((cut) => arms.some((a) => a.cut === cut && a.codec !== 'f32'));
  const charts = points.map((cut) => {
    const mine = arms.filter((a) => a.cut === cut);
    const front = paretoFront(mine.map((a) => ({ x: a.bytes!, y: a.top1_agreement! })));
    return scatterLogX({
      id: `${id}-fidelity-${cut.replace(/[^A-Za-z0-9_-]/g, '_')}`,
      title: `${n.network} at ${cut}: bytes vs fidelity`,
      xLabel: 'bytes per request (log)',
      yLabel: 'top-1 agreement with f32',
      yLine: { y: 1 - n.fidelity_budget!.max_agreement_loss / 100, label: 'budget' },
      points: mine.map((a, i) => ({
        label: a.codec,
        x: a.bytes!,
        y: a.top1_agreement!,
        front: front.has(i),
        chosen: a.arm === n.deployed.cut,
        hollow: !a.within_budget,
        title: `${a.arm}: ${bytesLabel(a.bytes)} per request, top-1 agreement ${(100 * a.top1_agreement!).toFixed(1)} %${a.within_budget ? '' : ' (outside the budget)'}`,
      })),
    });
  });
  return `<h3>Bytes vs fidelity</h3><p>Per point, each codec's bytes per request against its top-1 agreement with the f32 model; the line joins the Pareto front, hollow dots are outside the budget (${esc(String(n.fidelity_budget!.max_agreement_loss))} point(s) lost), the red ring marks the chosen pair (${esc(n.deployed.cut)}).</p>
<div class="charts">${charts.join('\n')}</div>`;
}

/** Data with codecs: the edge's encode and the cloud's decode stacked between edge, transfer and cloud. */
const CODEC_SERIES = [SERIES[0]!, { name: 'encode', color: '#edc948' }, SERIES[1]!, { name: 'decode', color: '#b07aa1' }, SERIES[2]!];

function bars(id: string, title: string, c: ConditionReport, n: NetworkReport, report: Report): string {
  const codecs = c.cuts.some((p) => p.codec !== undefined);
  return stackedBars({
    id,
    title,
    unit: `ms (${report.metric})`,
    series: codecs ? CODEC_SERIES : SERIES,
    bars: c.cuts.map((p) => ({
      label: p.cut,
      values: codecs ? [p.edge_ms, p.encode_ms ?? null, p.transfer_ms, p.decode_ms ?? null, p.cloud_ms] : [p.edge_ms, p.transfer_ms, p.cloud_ms],
      total: p.total_ms,
      mark: [p.cut === c.best.cut ? 'best' : '', p.cut === n.deployed.cut ? 'deployed' : '', p.raced ? `n=${p.samples}` : ''].filter(Boolean).join('+') || undefined,
      title: `point ${p.cut}${p.raced ? ` (raced out after ${p.samples} samples: ${p.raced.reason})` : ''}`,
    })),
  });
}

function heat(id: string, n: NetworkReport, varying: FactorName[], report: Report): string {
  const columns = n.conditions[0] ? unionCuts(n) : [];
  return heatMap({
    id,
    title: `total latency (${report.metric}), conditions x points; dot = best point, red outline = deployed point`,
    columns,
    highlight: columns.indexOf(n.deployed.cut) >= 0 ? columns.indexOf(n.deployed.cut) : undefined,
    legend: (v) => `${ms(v)} ms`,
    rows: n.conditions.map((c) => {
      const label = conditionLabel(c.factors, varying);
      const byCut = new Map(c.cuts.map((p) => [p.cut, p]));
      return {
        label,
        best: columns.indexOf(c.best.cut),
        cells: columns.map((cut) => {
          const p = byCut.get(cut);
          const v = p?.total_ms ?? null;
          return { value: v, title: `${label} | point ${cut}: ${ms(v)} ms${racedTag(p)}` };
        }),
      };
    }),
  });
}

/** Every point measured in any condition, in model order. */
function unionCuts(n: NetworkReport): string[] {
  const index = new Map<string, number>();
  for (const c of n.conditions) for (const p of c.cuts) index.set(p.cut, p.index);
  return [...index.entries()].sort((a, b) => a[1] - b[1]).map(([cut]) => cut);
}

function sensitivityTable(n: NetworkReport): string {
  if (!n.summary.sensitivity.length) return '';
  const rows = n.summary.sensitivity.map(
    (s) =>
      `<tr><td>${esc(FACTOR_LABEL[s.factor])}</td><td>${esc(s.levels.map((l) => levelLabel(l.value)).join(' / '))}</td><td>${esc(s.levels.map((l) => ms(l.deployed_ms)).join(' / '))}</td><td>${esc(pct(s.deployed_change_mean))}</td><td>${esc(pct(s.deployed_change_max))}</td><td>${esc(movedLabel(s))}</td></tr>`,
  );
  return `<h3>Sensitivity</h3><p>Pairs of conditions that differ in one factor only, the favourable level against each other level.</p>
<table><tr><th>factor</th><th>levels</th><th>deployed ms by level</th><th>deployed change (mean)</th><th>(max)</th><th>best point moved</th></tr>${rows.join('')}</table>`;
}

function conditionsTable(n: NetworkReport, varying: FactorName[]): string {
  const f32 = n.conditions.some((c) => c.best_f32 !== undefined);
  const raced = n.conditions.some((c) => c.cuts.some((p) => p.raced));
  const rows = n.conditions.map(
    (c) =>
      `<tr${c.repartition ? ' class="repartition"' : ''}><td>${esc(conditionLabel(c.factors, varying))}</td><td>${esc(c.best.cut)}</td><td>${ms(c.best.total_ms)}</td>${f32 ? `<td>${esc(c.best_f32?.cut ?? '-')}</td><td>${ms(c.best_f32?.total_ms ?? null)}</td>` : ''}<td>${ms(c.deployed_ms)}</td><td>${esc(gainWithInterval(c.gain, c) + racedTag(c.cuts.find((p) => p.cut === n.deployed.cut)))}</td><td>${esc(tieSetLabel(c.tie_set))}</td>${raced ? `<td class="raced">${esc(racedCount(c))}</td>` : ''}<td>${c.repartition ? 'yes' : c.move_not_significant ? 'not significant' : ''}</td></tr>`,
  );
  return `<details><summary>All ${n.conditions.length} conditions (${n.summary.repartition} need repartitioning)</summary>
<table><tr><th>condition</th><th>best</th><th>best ms</th>${f32 ? '<th>f32 best</th><th>f32 ms</th>' : ''}<th>deployed ms</th><th>gain [interval]</th><th>tie set</th>${raced ? '<th>raced (points stopped early)</th>' : ''}<th>repartition</th></tr>${rows.join('')}</table></details>`;
}

/** Adaptive runs: the comparison table, then a timeline per policy. */
function adaptiveSection(e: AdaptiveEntry): string {
  const id = `${e.network}-${e.trace}`.replace(/[^A-Za-z0-9_-]/g, '_');
  const cuts = [...new Set(Object.values(e.timelines).flatMap((t) => t.map((r) => r.cut)))];
  const head = `<tr>${adaptiveHeader(e).map((h) => `<th>${esc(h)}</th>`).join('')}</tr>`;
  const rows = adaptiveRows(e).map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('');
  const hindsight = e.hindsight_choices
    .map((c) => ({ t0_ms: c.t0_s * 1000, t1_ms: (c.t0_s + e.hindsight_window_s) * 1000, point: cuts.indexOf(c.policy.slice('static:'.length)) }))
    .filter((h) => h.point >= 0);
  const charts = Object.entries(e.timelines).map(([policy, t]) =>
    timelineChart({ id: `${id}-timeline-${policy.replace(/[^A-Za-z0-9_-]/g, '_')}`, title: `${e.network} on ${e.trace}: ${policy}`, cuts, rows: t.map((r) => ({ ...r, point: cuts.indexOf(r.cut) })), hindsight }),
  );
  const notes = adaptiveNotes(e).map((l) => `<p${l.startsWith('WARNING') ? ' class="warning"' : ''}>${esc(l)}</p>`).join('');
  return `<section data-adaptive="${esc(id)}"><h2>${esc(adaptiveTitle(e))}</h2><table>${head}${rows}</table>${notes}${charts.join('\n')}</section>`;
}
