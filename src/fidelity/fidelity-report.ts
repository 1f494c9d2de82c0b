import { KIND_NOTE, alignColumns, cutHeadline, type CutReport } from '../model/cut-report.js';
import { TOP5_DEFINITION } from './compare.js';
import type { FidelityRecord } from './record.js';

/** A (point, codec) record as dnn-cut's JSON gives it under its point: `cuts[].codecs[]`. */
export type CodecFidelity = Omit<FidelityRecord, 'cut'>;

/** What the fidelity figures are over: dnn-cut's JSON `fidelity`. */
export interface FidelityInputs {
  /** how many inputs every record is over */
  frames: number;
  /** where the inputs came from: the frames' sources (a file, or a file and its crop/flip), or `random` */
  inputs: string[];
  /** the preprocessing the f32 tensors of the frames got (tf, caffe, torch, unit, raw) */
  preprocess: string;
  layout: 'nhwc' | 'nchw';
  top5_definition: string;
}

/** dnn-cut --json with --codecs: every measured point gains `codecs`, the report `fidelity`. */
export type FidelityCutReport = Omit<CutReport, 'cuts'> & {
  cuts: (CutReport['cuts'][number] & { codecs?: CodecFidelity[] })[];
  fidelity: FidelityInputs;
};

export function withFidelity(report: CutReport, records: readonly FidelityRecord[], inputs: Omit<FidelityInputs, 'top5_definition'>): FidelityCutReport {
  const byCut = new Map<string, CodecFidelity[]>();
  for (const { cut, ...rest } of records) {
    const list = byCut.get(cut) ?? [];
    list.push(rest);
    byCut.set(cut, list);
  }
  return {
    ...report,
    cuts: report.cuts.map((c) => {
      const codecs = byCut.get(c.layer);
      return codecs ? { ...c, codecs } : c;
    }),
    fidelity: { ...inputs, top5_definition: TOP5_DEFINITION },
  };
}

/** The fidelity table: a row per measured (point, codec), the point's name on its first row. */
export function formatFidelityTable(r: FidelityCutReport): string {
  const rows: string[][] = [];
  for (const c of r.cuts) {
    (c.codecs ?? []).forEach((f, i) => {
      const first = i === 0;
      rows.push([
        first ? String(c.index) : '',
        first ? c.layer : '',
        first ? c.shape.join('x') : '',
        f.codec,
        Math.round(f.bytes).toLocaleString('en-US'),
        f.ratio.toFixed(3),
        f.encode_ms.toFixed(2),
        f.decode_ms.toFixed(2),
        formatDeviation(f.max_abs_diff),
        formatDeviation(f.rel_l2),
        percent(f.top1_agreement),
        percent(f.top5_agreement),
        first ? (KIND_NOTE[c.kind] ?? '') : '',
      ]);
    });
  }
  const header = ['index', 'layer', 'shape', 'codec', 'bytes', 'ratio', 'encode ms', 'decode ms', 'max abs diff', 'rel L2', 'top-1', 'top-5', ''];
  const right = [true, false, false, false, true, true, true, true, true, true, true, true, false];
  const f = r.fidelity;
  const over =
    `fidelity over ${f.frames} inputs (${describeSources(f.inputs)}; preprocess ${f.preprocess}, ${f.layout.toUpperCase()}), against the float32 output of the same split on the same inputs (the unsplit model's, up to float rounding)\n` +
    `bytes: mean payload + codec parameters per input, ratio to the f32 payload; times: median per input\n`;
  return `${cutHeadline(r)}${over}${alignColumns(header, rows, right)}top-1: the output's top-1 class is the reference's; top-5: ${TOP5_DEFINITION}\n`;
}

/** "0" for exact, else two significant digits; NaN and Infinity as such. */
function formatDeviation(d: number): string {
  if (d === 0) return '0';
  return Number.isFinite(d) ? d.toExponential(1) : String(d);
}

function percent(x: number): string {
  return `${(100 * x).toFixed(1)} %`;
}

/** "7 files: a.jpg, b.png, ..." from the frame sources (crops and flips name their file first). */
function describeSources(sources: readonly string[]): string {
  if (sources.length === 1 && sources[0] === 'random') return 'random';
  const files = [...new Set(sources.map((s) => s.split(/[ #@]/)[0]!))];
  const shown = files.slice(0, 4).join(', ');
  return `${files.length} file${files.length === 1 ? '' : 's'}: ${shown}${files.length > 4 ? ', ...' : ''}`;
}
