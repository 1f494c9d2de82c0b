import type { Network } from './network.js';

/** What `dnn-cut --json` prints (documented in README). */
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
  cuts: { index: number; layer: string; shape: number[]; bytes: number; kind: string; edge_params: number; edge_params_share: number }[];
}

export function cutReport(n: Network, backend: string): CutReport {
  return {
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
    })),
  };
}

const KIND_NOTE: Record<string, string> = { input: 'cloud-only', output: 'edge-only', inner: '' };

export function formatCutTable(r: CutReport): string {
  const head =
    `${r.network}: ${r.params.toLocaleString('en-US')} parameters, ${r.layers} layers, input ${r.input_shape.join('x')}, ` +
    `${r.cuts.length} partition points (fingerprint ${r.fingerprint.slice(0, 12)}, seed ${r.seed}, ${r.weights} weights)\n`;
  const rows = r.cuts.map((c) => [
    String(c.index),
    c.layer,
    c.shape.join('x'),
    c.bytes.toLocaleString('en-US'),
    `${(100 * c.edge_params_share).toFixed(1)} %`,
    KIND_NOTE[c.kind] ?? '',
  ]);
  const header = ['index', 'layer', 'shape', 'bytes', 'edge params', ''];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const right = [true, false, false, true, true, false];
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (right[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return `${head}${line(header)}\n${rows.map(line).join('\n')}\n`;
}
