/**
 * Minimal SVG chart primitives for the HTML report: plain strings, no dependencies, nothing fetched.
 */

export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const f = (v: number) => (Math.round(v * 10) / 10).toString();

/** Round axis ticks from 0 to at least max. */
export function niceTicks(max: number, count = 5): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  for (let v = 0; v < max + step * 0.999; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

/** Viridis, sampled: t in [0,1] -> CSS colour. */
const VIRIDIS = ['#440154', '#482878', '#3e4989', '#31688e', '#26828e', '#1f9e89', '#35b779', '#6ece58', '#b5de2b', '#fde725'];
export function viridis(t: number): string {
  const x = Math.min(1, Math.max(0, t)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const mix = (a: string, b: string, w: number) => {
    const c = (s: string, k: number) => parseInt(s.slice(1 + 2 * k, 3 + 2 * k), 16);
    return `rgb(${[0, 1, 2].map((k) => Math.round(c(a, k) * (1 - w) + c(b, k) * w)).join(',')})`;
  };
  return mix(VIRIDIS[i]!, VIRIDIS[i + 1]!, x - i);
}

export interface StackSeries {
  name: string;
  color: string;
}

export interface StackedBar {
  label: string;
  /** one value per series (null/negative drawn as 0) */
  values: (number | null)[];
  /** drawn as a tick over the bar */
  total: number;
  /** text under the label, e.g. "best" */
  mark?: string;
  title: string;
}

export function stackedBars(opts: { id: string; title: string; unit: string; series: StackSeries[]; bars: StackedBar[] }): string {
  const { bars, series } = opts;
  const barW = Math.max(6, Math.min(28, 760 / Math.max(1, bars.length)));
  const left = 56;
  const top = 28;
  const plotH = 200;
  // rotated point labels (45 degrees) need about 0.7 x their length, then a row for the legend
  const bottom = 44 + Math.min(160, Math.max(...bars.map((b) => b.label.length), 4) * 6.5 * 0.71);
  const width = Math.max(560, left + bars.length * barW * 1.25 + 20);
  const height = top + plotH + bottom;
  const max = Math.max(...bars.map((b) => Math.max(b.total, sum(b.values))), 0);
  const ticks = niceTicks(max);
  const yMax = ticks[ticks.length - 1]!;
  const y = (v: number) => top + plotH - (v / yMax) * plotH;
  const labelEvery = Math.ceil(bars.length / 40);
  const parts: string[] = [];
  parts.push(`<text x="${left}" y="16" class="title">${esc(opts.title)}</text>`);
  for (const t of ticks) {
    parts.push(`<line x1="${left}" x2="${f(width - 10)}" y1="${f(y(t))}" y2="${f(y(t))}" class="grid"/>`);
    parts.push(`<text x="${left - 6}" y="${f(y(t) + 4)}" class="tick" text-anchor="end">${t}</text>`);
  }
  parts.push(`<text x="12" y="${top + plotH / 2}" class="axis" transform="rotate(-90 12 ${top + plotH / 2})" text-anchor="middle">${esc(opts.unit)}</text>`);
  bars.forEach((b, i) => {
    const x = left + 8 + i * barW * 1.25;
    let acc = 0;
    b.values.forEach((v, s) => {
      const h = Math.max(0, v ?? 0);
      if (h === 0) return;
      parts.push(`<rect class="bar" x="${f(x)}" y="${f(y(acc + h))}" width="${f(barW)}" height="${f(y(acc) - y(acc + h))}" fill="${series[s]!.color}"><title>${esc(`${b.title}: ${series[s]!.name} ${h.toFixed(3)} ${opts.unit}`)}</title></rect>`);
      acc += h;
    });
    parts.push(`<line x1="${f(x - 2)}" x2="${f(x + barW + 2)}" y1="${f(y(b.total))}" y2="${f(y(b.total))}" class="total"><title>${esc(`${b.title}: total ${b.total.toFixed(3)} ${opts.unit}`)}</title></line>`);
    if (i % labelEvery === 0 || b.mark) {
      const lx = x + barW / 2;
      const ly = top + plotH + 12;
      parts.push(`<text x="${f(lx)}" y="${ly}" class="tick" text-anchor="end" transform="rotate(-45 ${f(lx)} ${ly})">${esc(b.label)}</text>`);
    }
    if (b.mark) parts.push(`<text x="${f(x + barW / 2)}" y="${f(y(b.total) - 5)}" class="mark" text-anchor="middle">${esc(b.mark)}</text>`);
  });
  const ly = height - 12;
  const legend = series.map((s, i) => `<rect x="${left + i * 90}" y="${ly - 9}" width="10" height="10" fill="${s.color}"/><text x="${left + 14 + i * 90}" y="${ly}" class="tick">${esc(s.name)}</text>`);
  legend.push(`<line x1="${left + series.length * 90}" x2="${left + series.length * 90 + 14}" y1="${ly - 4}" y2="${ly - 4}" class="total"/><text x="${left + series.length * 90 + 18}" y="${ly}" class="tick">total</text>`);
  return svg(opts.id, width, height, [...parts, ...legend]);
}

export interface HeatCell {
  value: number | null;
  title: string;
  /** a cell that could be measured but was not: drawn grey (a null value without it is left blank) */
  unmeasured?: boolean;
}

export function heatMap(opts: {
  id: string;
  title: string;
  columns: string[];
  rows: { label: string; cells: HeatCell[]; best: number }[];
  /** column drawn with an outline (the deployed point) */
  highlight?: number;
  legend: (v: number) => string;
}): string {
  const { columns, rows } = opts;
  const cw = Math.max(8, Math.min(36, 860 / Math.max(1, columns.length)));
  const ch = rows.length > 60 ? 4 : 14;
  const left = ch >= 12 ? 200 : 40;
  // column labels rotated 60 degrees rise about 0.87 x their length above the cells
  const top = 30 + Math.min(150, Math.max(...columns.map((c) => c.length), 4) * 6.5 * 0.87);
  const plotW = cw * columns.length;
  const width = Math.max(640, left + plotW + 140, 20 + opts.title.length * 7);
  const height = Math.max(top + ch * rows.length + 60, top + 172); // the colour legend is 160 high
  // Log colour scale between the 2nd and 98th percentiles, so a few outliers do not flatten the rest.
  const logs = rows.flatMap((r) => r.cells.flatMap((c) => (c.value !== null && c.value > 0 ? [Math.log(c.value)] : []))).sort((a, b) => a - b);
  const lo = logs[Math.floor(0.02 * (logs.length - 1))] ?? 0;
  const hi = logs[Math.ceil(0.98 * (logs.length - 1))] ?? 0;
  const t = (v: number) => (hi > lo ? (Math.log(v) - lo) / (hi - lo) : 0.5);
  const parts: string[] = [`<text x="20" y="16" class="title">${esc(opts.title)}</text>`];
  const labelEvery = Math.ceil(columns.length / 40);
  columns.forEach((c, j) => {
    if (j % labelEvery) return;
    const x = left + j * cw + cw / 2;
    parts.push(`<text x="${f(x)}" y="${top - 4}" class="tick" text-anchor="start" transform="rotate(-60 ${f(x)} ${top - 4})">${esc(c)}</text>`);
  });
  rows.forEach((r, i) => {
    const y = top + i * ch;
    if (ch >= 12) parts.push(`<text x="${left - 6}" y="${f(y + ch - 3)}" class="tick" text-anchor="end">${esc(r.label)}</text>`);
    r.cells.forEach((c, j) => {
      if (c.value === null) {
        if (c.unmeasured) parts.push(`<rect class="cell unmeasured" x="${f(left + j * cw)}" y="${f(y)}" width="${f(cw)}" height="${ch}" fill="#bbb"><title>${esc(c.title)}</title></rect>`);
        return;
      }
      parts.push(`<rect class="cell" x="${f(left + j * cw)}" y="${f(y)}" width="${f(cw)}" height="${ch}" fill="${viridis(t(c.value))}"><title>${esc(c.title)}</title></rect>`);
    });
    const bx = left + r.best * cw + cw / 2;
    // best < 0: the row holds no best (a three-tier map marks one best in the whole map)
    if (r.best >= 0) parts.push(`<circle class="best" cx="${f(bx)}" cy="${f(y + ch / 2)}" r="${f(Math.max(2, Math.min(cw, ch) / 2.5))}"><title>${esc(`${r.label}: best point ${columns[r.best]}`)}</title></circle>`);
  });
  if (opts.highlight !== undefined) {
    parts.push(`<rect class="deployed" x="${f(left + opts.highlight * cw)}" y="${top}" width="${f(cw)}" height="${ch * rows.length}"/>`);
  }
  // colour legend
  const lx = left + plotW + 20;
  for (let k = 0; k < 20; k++) parts.push(`<rect x="${lx}" y="${f(top + k * 8)}" width="14" height="8" fill="${viridis(1 - k / 19)}"/>`);
  parts.push(`<text x="${lx + 18}" y="${top + 8}" class="tick">&#8805; ${esc(opts.legend(Math.exp(hi)))}</text>`);
  parts.push(`<text x="${lx + 18}" y="${top + 160}" class="tick">&#8804; ${esc(opts.legend(Math.exp(lo)))}</text>`);
  return svg(opts.id, width, height, parts);
}

export interface LineSeries {
  name: string;
  color: string;
  values: (number | null)[];
  /** the x index whose dot is ringed (the chosen point); absent: none */
  ring?: number;
}

/** A small line chart over categorical x values. */
export function lineChart(opts: { id: string; title: string; xLabel: string; unit: string; x: string[]; series: LineSeries[] }): string {
  const left = 52;
  const top = 26;
  const plotW = 220;
  const plotH = 130;
  const width = Math.max(left + plotW + 16, 12 + opts.title.length * 7, left + 24 + Math.max(...opts.series.map((s) => s.name.length)) * 6.5);
  const height = top + plotH + 44 + 16 * opts.series.length;
  const max = Math.max(0, ...opts.series.flatMap((s) => s.values.flatMap((v) => (v === null ? [] : [v]))));
  const ticks = niceTicks(max, 4);
  const yMax = ticks[ticks.length - 1]!;
  const y = (v: number) => top + plotH - (v / yMax) * plotH;
  const x = (i: number) => left + (opts.x.length > 1 ? (i / (opts.x.length - 1)) * plotW : plotW / 2);
  const parts: string[] = [`<text x="12" y="14" class="title">${esc(opts.title)}</text>`];
  for (const t of ticks) {
    parts.push(`<line x1="${left}" x2="${left + plotW}" y1="${f(y(t))}" y2="${f(y(t))}" class="grid"/>`);
    parts.push(`<text x="${left - 5}" y="${f(y(t) + 4)}" class="tick" text-anchor="end">${t}</text>`);
  }
  opts.x.forEach((label, i) => parts.push(`<text x="${f(x(i))}" y="${top + plotH + 14}" class="tick" text-anchor="middle">${esc(label)}</text>`));
  parts.push(`<text x="${left + plotW / 2}" y="${top + plotH + 30}" class="axis" text-anchor="middle">${esc(opts.xLabel)}</text>`);
  opts.series.forEach((s, k) => {
    const pts = s.values.flatMap((v, i) => (v === null ? [] : [`${f(x(i))},${f(y(v))}`]));
    parts.push(`<polyline class="line" points="${pts.join(' ')}" stroke="${s.color}"/>`);
    s.values.forEach((v, i) => {
      if (v !== null) parts.push(`<circle cx="${f(x(i))}" cy="${f(y(v))}" r="3" fill="${s.color}"><title>${esc(`${s.name} at ${opts.x[i]}: ${v.toFixed(3)} ${opts.unit}`)}</title></circle>`);
      if (v !== null && i === s.ring) parts.push(`<circle class="chosen" cx="${f(x(i))}" cy="${f(y(v))}" r="7" fill="none" stroke="${s.color}" stroke-width="2"><title>${esc(`${s.name}: best ${opts.x[i]} (${v.toFixed(1)} ${opts.unit})`)}</title></circle>`);
    });
    const ly = top + plotH + 48 + 16 * k;
    parts.push(`<line x1="${left}" x2="${left + 14}" y1="${ly - 4}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2"/><text x="${left + 18}" y="${ly}" class="tick">${esc(s.name)}</text>`);
  });
  return svg(opts.id, width, height, parts);
}

function svg(id: string, width: number, height: number, parts: string[]): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" data-chart="${esc(id)}" width="${f(width)}" height="${f(height)}" viewBox="0 0 ${f(width)} ${f(height)}" role="img">\n${parts.join('\n')}\n</svg>`;
}

function sum(xs: (number | null)[]): number {
  return xs.reduce<number>((s, v) => s + Math.max(0, v ?? 0), 0);
}

export interface TimelineRow {
  t_ms: number;
  rate_mbit: number | null;
  est_mbit: number | null;
  /** position of the chosen point among `cuts` */
  point: number;
  total_ms: number;
}

/**
 * One policy's run over time, three panels on a shared time axis: the rate in force (solid) and
 * the policy's estimate (dashed), the point chosen (a step line over the points in model order),
 * and each request's latency.
 */
export function timelineChart(opts: { id: string; title: string; rows: TimelineRow[]; cuts: string[]; /** the hindsight best's point per window (start and end, ms): a grey band in the point panel */ hindsight?: { t0_ms: number; t1_ms: number; point: number }[] }): string {
  const left = 110;
  const plotW = 560;
  const panelH = 90;
  const gap = 28;
  const top = 26;
  const rows = opts.rows;
  const tMax = Math.max(1, ...rows.map((r) => r.t_ms)) / 1000;
  const hindsight = opts.hindsight ?? [];
  const x = (ms: number) => left + (ms / 1000 / tMax) * plotW;
  const parts: string[] = [`<text x="12" y="14" class="title">${esc(opts.title)}</text>`];
  // a series' values are at the requests' times unless it gives its own (`at`, ms)
  const panel = (k: number, label: string, yMaxRaw: number, series: { values: (number | null)[]; at?: number[]; color: string; dash?: boolean; step?: boolean; band?: boolean }[], yTicks?: [number, string][]) => {
    const y0 = top + k * (panelH + gap);
    const ticks = yTicks ?? niceTicks(yMaxRaw, 3).map((t) => [t, String(t)] as [number, string]);
    const yMax = yTicks ? Math.max(1, yMaxRaw) : Math.max(...ticks.map((t) => t[0]), 1e-9);
    const y = (v: number) => y0 + panelH - (v / yMax) * panelH;
    parts.push(`<text x="12" y="${y0 + panelH / 2}" class="axis">${esc(label)}</text>`);
    for (const [v, text] of ticks) {
      parts.push(`<line x1="${left}" x2="${left + plotW}" y1="${f(y(v))}" y2="${f(y(v))}" class="grid"/>`);
      parts.push(`<text x="${left - 5}" y="${f(y(v) + 4)}" class="tick" text-anchor="end">${esc(text)}</text>`);
    }
    for (const s of series) {
      const pts: string[] = [];
      s.values.forEach((v, i) => {
        if (v === null) return;
        const t = Math.min(s.at?.[i] ?? rows[i]!.t_ms, tMax * 1000);
        if (s.step && pts.length) pts.push(`${f(x(t))},${pts.at(-1)!.split(',')[1]}`);
        pts.push(`${f(x(t))},${f(y(v))}`);
      });
      // a band: wide and pale, under the lines drawn after it
      parts.push(`<polyline class="line" points="${pts.join(' ')}" stroke="${s.color}"${s.dash ? ' stroke-dasharray="4 3"' : ''}${s.band ? ' style="stroke-width:7;opacity:0.35"' : ''}/>`);
    }
  };
  const rateMax = Math.max(0, ...rows.flatMap((r) => [r.rate_mbit ?? 0, r.est_mbit ?? 0]));
  panel(0, 'Mbit/s', rateMax, [
    { values: rows.map((r) => r.rate_mbit), color: '#4e79a7', step: true },
    { values: rows.map((r) => r.est_mbit), color: '#f28e2b', dash: true },
  ]);
  // the hindsight choice holds over its window: a value at the window's start and its end
  const hindsightLine = { values: hindsight.flatMap((h) => [h.point, h.point]), at: hindsight.flatMap((h) => [h.t0_ms, h.t1_ms]), color: '#7f7f7f', step: true, band: true };
  panel(1, 'point', opts.cuts.length - 1, [...(hindsight.length ? [hindsightLine] : []), { values: rows.map((r) => r.point), color: '#59a14f', step: true }], opts.cuts.map((c, i) => [i, c.length > 14 ? `${c.slice(0, 13)}…` : c] as [number, string]));
  panel(2, 'latency ms', Math.max(0, ...rows.map((r) => r.total_ms)), [{ values: rows.map((r) => r.total_ms), color: '#e15759' }]);
  const axisY = top + 3 * (panelH + gap) - gap + 16;
  for (const t of niceTicks(tMax, 5)) parts.push(`<text x="${f(x(t * 1000))}" y="${axisY}" class="tick" text-anchor="middle">${t}</text>`);
  parts.push(`<text x="${left + plotW / 2}" y="${axisY + 16}" class="axis" text-anchor="middle">seconds into the trace (rate: in force solid, estimated dashed${hindsight.length ? '; point: the hindsight best as a grey band' : ''})</text>`);
  return svg(opts.id, left + plotW + 20, axisY + 26, parts);
}

export interface ScatterPoint {
  label: string;
  x: number;
  y: number;
  /** on the Pareto front (joined by a line) */
  front: boolean;
  /** the chosen pair: ringed */
  chosen: boolean;
  /** outside the budget: drawn hollow */
  hollow: boolean;
  title: string;
}

/**
 * Dots over a logarithmic x axis and a linear y axis (bytes per request vs top-1 agreement), the
 * Pareto front (fewest bytes for the agreement) joined by a line, the chosen dot ringed.
 */
export function scatterLogX(opts: { id: string; title: string; xLabel: string; yLabel: string; points: ScatterPoint[]; /** a dashed level, e.g. the budget */ yLine?: { y: number; label: string } }): string {
  const left = 56;
  const top = 26;
  const plotW = 300;
  const plotH = 160;
  const pts = opts.points;
  const lx = pts.map((p) => Math.log10(Math.max(1, p.x)));
  const x0 = Math.floor(Math.min(...lx));
  const x1 = Math.max(x0 + 1, Math.ceil(Math.max(...lx)));
  const yLow = Math.min(...pts.map((p) => p.y), opts.yLine?.y ?? 1);
  const y0 = Math.max(0, Math.floor((yLow - 0.005) * 50) / 50);
  const y1 = 1;
  const x = (v: number) => left + ((Math.log10(Math.max(1, v)) - x0) / (x1 - x0)) * plotW;
  const y = (v: number) => top + plotH - ((v - y0) / (y1 - y0)) * plotH;
  const width = Math.max(left + plotW + 120, 12 + opts.title.length * 7);
  const height = top + plotH + 44;
  const parts: string[] = [`<text x="12" y="14" class="title">${esc(opts.title)}</text>`];
  for (let e = x0; e <= x1; e++) {
    parts.push(`<line x1="${f(x(10 ** e))}" x2="${f(x(10 ** e))}" y1="${top}" y2="${top + plotH}" class="grid"/>`);
    parts.push(`<text x="${f(x(10 ** e))}" y="${top + plotH + 14}" class="tick" text-anchor="middle">${esc(bytesTick(10 ** e))}</text>`);
  }
  for (const t of [y0, (y0 + y1) / 2, y1]) {
    parts.push(`<line x1="${left}" x2="${left + plotW}" y1="${f(y(t))}" y2="${f(y(t))}" class="grid"/>`);
    parts.push(`<text x="${left - 5}" y="${f(y(t) + 4)}" class="tick" text-anchor="end">${(100 * t).toFixed(1)}%</text>`);
  }
  parts.push(`<text x="${left + plotW / 2}" y="${top + plotH + 32}" class="axis" text-anchor="middle">${esc(opts.xLabel)}</text>`);
  parts.push(`<text x="12" y="${top + plotH / 2}" class="axis" transform="rotate(-90 12 ${top + plotH / 2})" text-anchor="middle">${esc(opts.yLabel)}</text>`);
  if (opts.yLine) {
    parts.push(`<line class="budget" x1="${left}" x2="${left + plotW}" y1="${f(y(opts.yLine.y))}" y2="${f(y(opts.yLine.y))}" stroke="#e15759" stroke-dasharray="4 3"/>`);
    parts.push(`<text x="${left + plotW + 4}" y="${f(y(opts.yLine.y) + 4)}" class="tick">${esc(opts.yLine.label)}</text>`);
  }
  const front = pts.filter((p) => p.front).sort((a, b) => a.x - b.x);
  if (front.length > 1) parts.push(`<polyline class="line front" points="${front.map((p) => `${f(x(p.x))},${f(y(p.y))}`).join(' ')}" stroke="#4e79a7"/>`);
  for (const p of pts) {
    parts.push(`<circle class="codec${p.hollow ? ' outside' : ''}" cx="${f(x(p.x))}" cy="${f(y(p.y))}" r="4" fill="${p.hollow ? '#fff' : '#4e79a7'}" stroke="#4e79a7"><title>${esc(p.title)}</title></circle>`);
    parts.push(`<text x="${f(x(p.x) + 6)}" y="${f(y(p.y) - 5)}" class="tick">${esc(p.label)}</text>`);
    if (p.chosen) parts.push(`<circle class="chosen" cx="${f(x(p.x))}" cy="${f(y(p.y))}" r="8" fill="none" stroke="#e00" stroke-width="2"><title>${esc(`chosen: ${p.title}`)}</title></circle>`);
  }
  return svg(opts.id, width, height, parts);
}

function bytesTick(v: number): string {
  return v >= 1e6 ? `${v / 1e6} MB` : v >= 1e3 ? `${v / 1e3} kB` : `${v} B`;
}
