import { HistogramLogWriter, build, decodeFromCompressedBase64, type Histogram } from 'hdr-histogram-js';
import type { Condition } from '../conditions/condition.js';
import { META_PREFIX, type RunMetadata, checkRunMetadata } from './metadata.js';
import { CODEC_METRICS, METRICS, STREAM_METRICS, TIER_METRICS, type CodecMetric, type Metric, type StreamMetric, type TierMetric, formatTag } from './tags.js';

/**
 * The text lines of a results file, in HdrHistogram's log format (v1.3) so HdrHistogram's own
 * tools (HistogramLogProcessor, hdr-histogram-js's HistogramLogReader...) read it unchanged.
 * Shared by the writer (to write and to check a file it resumes) and the reader.
 */

/** Recorded values are integer microseconds. */
export const SIGNIFICANT_DIGITS = 3;
/** Interval_Max column = max value / this ratio, i.e. milliseconds (HdrHistogram's convention for ns is 1e6). */
export const MAX_VALUE_UNIT_RATIO = 1000;
export const LEGEND = '"StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram"';

/** A histogram for latencies in integer microseconds, 3 significant digits (what results files hold). */
export function newLatencyHistogram(): Histogram {
  return build({ numberOfSignificantValueDigits: SIGNIFICANT_DIGITS });
}

/** Renders text through hdr-histogram-js's own HistogramLogWriter. */
function render(write: (w: HistogramLogWriter) => void): string {
  let text = '';
  const writer = new HistogramLogWriter((s: string) => {
    text += s;
  });
  write(writer);
  return text;
}

/** Meta line, format version, StartTime, BaseTime and legend. Interval timestamps are relative to baseMs. */
export function headerText(meta: RunMetadata, baseMs: number): string {
  // What is written must read back: a field the schema does not allow is a bug here, not a user's mistake.
  try {
    checkRunMetadata(meta, 'the metadata to write');
  } catch (e) {
    throw new Error(`internal: ${(e as Error).message}`);
  }
  const sec = (baseMs / 1000).toFixed(3);
  return (
    `${META_PREFIX}${JSON.stringify(meta)}\n` +
    render((w) => {
      w.outputLogFormatVersion();
      // Java's wording; the library's outputStartTime adds a stray blank line, so write it ourselves.
      w.outputComment(`[StartTime: ${sec} (seconds since epoch), ${new Date(baseMs).toISOString()}]`);
      w.outputComment(`[BaseTime: ${sec} (seconds since epoch)]`);
      w.outputLegend();
    })
  );
}

/** A cell's histograms: the 4 latency metrics, the codec metrics when the run recorded them, the queueing times of a scenario cell. */
export type CellHistograms = Record<Metric, Histogram> & Partial<Record<CodecMetric | StreamMetric | TierMetric, Histogram>>;

/** A cell's load in its tags: `;scenario=LABEL` (scenario cells) and, with several edges, `;edge=I`. */
export interface CellLoad {
  scenario?: string;
  edge?: number;
}

/**
 * The tagged interval lines of one (condition, cut, codec[, scenario]) cell: the 4 METRICS, then the
 * CODEC_METRICS given, then the STREAM_METRICS given. A three-tier cell (`cut2`: its y) writes its 2
 * TIER_METRICS first (all required): the cell is whole once its `total` is in, as a two-tier one.
 */
export function cellText(
  baseMs: number,
  condition: Condition,
  cut: string,
  histograms: CellHistograms,
  startMs: number,
  endMs: number,
  ref?: number,
  codec?: string,
  load?: CellLoad,
  cut2?: string,
): string {
  for (const name of cut2 === undefined ? [cut] : [cut, cut2]) if (!/^[^\s,;=]+$/.test(name)) throw new Error(`cut name '${name}' cannot be used in a result tag (no spaces , ; =)`);
  // HdrHistogram's readers skip intervals that start before BaseTime: never write one.
  const start = Math.max(startMs, baseMs);
  const end = Math.max(endMs, start);
  return render((w) => {
    for (const metric of [...(cut2 === undefined ? [] : TIER_METRICS), ...METRICS, ...CODEC_METRICS.filter((m) => histograms[m]), ...STREAM_METRICS.filter((m) => histograms[m])]) {
      const h = histograms[metric];
      if (!h) throw new Error(`cell ${cut}: no '${metric}' histogram`);
      const oldTag = h.tag;
      h.tag = formatTag({ condition, cut, ...(cut2 === undefined ? {} : { cut2 }), metric, ref, codec, ...(load?.scenario === undefined ? {} : { scenario: load.scenario }), ...(load?.edge === undefined ? {} : { edge: load.edge }) });
      try {
        w.outputIntervalHistogram(h, (start - baseMs) / 1000, (end - baseMs) / 1000, MAX_VALUE_UNIT_RATIO);
      } finally {
        h.tag = oldTag;
      }
    }
  });
}

export interface IntervalLine {
  /** undefined when the line carries no Tag= field */
  tag?: string;
  startSec: number;
  lengthSec: number;
  base64: string;
}

const NUMBER = /^\s*-?\d+(\.\d+)?\s*$/;

/** Splits an interval line, or returns undefined when the line does not have that shape. */
export function splitIntervalLine(line: string): IntervalLine | undefined {
  const fields = line.split(',');
  let tag: string | undefined;
  if (fields[0]?.startsWith('Tag=')) tag = fields.shift()!.slice(4);
  if (fields.length !== 4) return undefined;
  const [start, length, max, base64] = fields as [string, string, string, string];
  if (!NUMBER.test(start) || !NUMBER.test(length) || !NUMBER.test(max)) return undefined;
  return { tag, startSec: Number(start), lengthSec: Number(length), base64: base64.trim() };
}

/** Decodes a line's histogram; throws with zlib's or the decoder's reason when it is truncated or corrupt. */
export function decodeHistogram(base64: string): Histogram {
  if (!/^[A-Za-z0-9+/]+=*$/.test(base64)) throw new Error('not base64');
  return decodeFromCompressedBase64(base64);
}

/** Seconds from a `#[StartTime: ...]` or `#[BaseTime: ...]` comment. */
export function timeComment(line: string): { kind: 'start' | 'base'; sec: number } | undefined {
  const m = /^#\[(StartTime|BaseTime): (-?\d+(?:\.\d+)?)/.exec(line);
  if (!m) return undefined;
  return { kind: m[1] === 'StartTime' ? 'start' : 'base', sec: Number(m[2]) };
}

export function isLegend(line: string): boolean {
  return line.startsWith('"StartTimestamp"');
}

/**
 * Base of relative timestamps, as HdrHistogram's readers decide it: BaseTime when given; otherwise
 * StartTime if the first timestamp is more than a year before it (relative), else 0 (absolute).
 */
export function timeBaseSec(baseSec: number | undefined, startSec: number | undefined, firstStampSec: number): number {
  if (baseSec !== undefined) return baseSec;
  if (startSec !== undefined && firstStampSec < startSec - 365 * 24 * 3600) return startSec;
  return 0;
}

/** Comment lines of an adaptive run: one JSON object each, skipped by HdrHistogram's readers. */
export const REQUEST_PREFIX = '#dnn-request ';
export const APPLIED_PREFIX = '#dnn-applied ';

/** A trace's name as a tag value: no spaces , ; = (HdrHistogram ends a tag at a comma). */
export function tagSafe(name: string): string {
  return name.replace(/[\s,;=]+/g, '_');
}

/** The 4 interval lines of one policy's run of a trace, tagged `policy=...;trace=...;metric=...`. */
export function policyText(baseMs: number, policy: string, trace: string, histograms: Record<Metric, Histogram>, startMs: number, endMs: number): string {
  const start = Math.max(startMs, baseMs);
  const end = Math.max(endMs, start);
  return render((w) => {
    for (const metric of METRICS) {
      const h = histograms[metric];
      const oldTag = h.tag;
      h.tag = `policy=${tagSafe(policy)};trace=${tagSafe(trace)};metric=${metric}`;
      try {
        w.outputIntervalHistogram(h, (start - baseMs) / 1000, (end - baseMs) / 1000, MAX_VALUE_UNIT_RATIO);
      } finally {
        h.tag = oldTag;
      }
    }
  });
}

/** gzip's magic bytes: an archived results file. */
export function isGzip(buf: Uint8Array): boolean {
  return buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b;
}
