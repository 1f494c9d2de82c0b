import type { Network } from './network.js';

/** What `dnn-cut --verify` found (engine/verify.ts computes it; kept as plain data here). */
export interface CutVerification {
  outputMaxAbs: number;
  tolerance: number;
  diffs: Map<string, number>;
  failed: string[];
}

/** What `dnn-cut --json` prints (documented in docs/dnn-cut.md). */
export interface CutReport {
  network: string;
  source: Network['source'];
  params: number;
  layers: number;
  input_shape: number[];
  backend: string;
  seed: number;
  weights: Network['weights'];
  fingerprint: string;
  build_ms: number;
  cuts: { index: number; layer: string; shape: number[]; bytes: number; kind: string; edge_params: number; edge_params_share: number; max_abs_diff?: number | null }[];
  /** with --verify: the full model's max |output| on the seeded input and the tolerance of "exact" */
  verify?: { output_max_abs: number; tolerance: number; exact: boolean; failed: string[] };
}

export function cutReport(n: Network, backend: string, verified?: CutVerification): CutReport {
  const report: CutReport = {
    network: n.id,
    source: n.source,
    params: n.params,
    layers: n.layers,
    input_shape: n.inputShape,
    backend,
    seed: n.seed,
    weights: n.weights,
    fingerprint: n.fingerprint,
    build_ms: Math.round(n.buildMs),
    cuts: n.cuts.map((c) => ({
      index: c.index,
      layer: c.layer,
      shape: c.shape,
      bytes: c.bytes,
      kind: c.kind,
      edge_params: c.edgeParams,
      edge_params_share: n.params > 0 ? c.edgeParams / n.params : 0,
      // JSON has no NaN: a split that produced NaN reads as null
      ...(verified ? { max_abs_diff: finiteOrNull(verified.diffs.get(c.layer)) } : {}),
    })),
  };
  if (verified) {
    report.verify = { output_max_abs: verified.outputMaxAbs, tolerance: verified.tolerance, exact: verified.failed.length === 0, failed: verified.failed };
  }
  return report;
}

function finiteOrNull(v: number | undefined): number | null {
  return v !== undefined && Number.isFinite(v) ? v : null;
}

/** The note a point's kind gets in tables. */
export const KIND_NOTE: Record<string, string> = { input: 'cloud-only', output: 'edge-only', inner: '' };

/** The table's first line: the network, its size and its points. */
export function cutHeadline(r: CutReport): string {
  return (
    `${r.network}: ${r.params.toLocaleString('en-US')} parameters, ${r.layers} layers, input ${r.input_shape.join('x')}, ` +
    `${r.cuts.length} partition points (fingerprint ${r.fingerprint.slice(0, 12)}, seed ${r.seed}, ${r.weights} weights)\n`
  );
}

export function formatCutTable(r: CutReport): string {
  const head = cutHeadline(r);
  const verify = r.verify;
  const rows = r.cuts.map((c) => [
    String(c.index),
    c.layer,
    c.shape.join('x'),
    c.bytes.toLocaleString('en-US'),
    `${(100 * c.edge_params_share).toFixed(1)} %`,
    ...(verify ? [formatDiff(c.max_abs_diff, verify.tolerance)] : []),
    KIND_NOTE[c.kind] ?? '',
  ]);
  const header = ['index', 'layer', 'shape', 'bytes', 'edge params', ...(verify ? ['max abs diff'] : []), ''];
  const right = [true, false, false, true, true, ...(verify ? [true] : []), false];
  return `${head}${alignColumns(header, rows, right)}${verify ? verifyLine(r.cuts.length, verify) : ''}`;
}

/** The header and rows as lines of columns two spaces apart, each column as wide as its widest cell (`right`: numbers). */
export function alignColumns(header: string[], rows: string[][], right: boolean[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (right[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return `${[header, ...rows].map(line).join('\n')}\n`;
}

/** "0", "3.6e-7", or the number and "NOT EXACT" when beyond the tolerance. */
function formatDiff(d: number | null | undefined, tolerance: number): string {
  if (d === null || d === undefined) return 'NaN  NOT EXACT';
  const s = d === 0 ? '0' : d.toExponential(1);
  return d <= tolerance ? s : `${s}  NOT EXACT`;
}

function verifyLine(points: number, v: NonNullable<CutReport['verify']>): string {
  const within = `within ${v.tolerance.toExponential(1)} (1e-4 x max |output| ${v.output_max_abs.toPrecision(3)}) on the seeded input`;
  return v.exact
    ? `verify: all ${points} points reproduce the full model exactly (${within})\n`
    : `verify: ${v.failed.length} of ${points} points do NOT reproduce the full model ${within}: ${v.failed.join(', ')}\n`;
}
