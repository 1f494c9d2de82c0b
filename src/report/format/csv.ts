import { FACTORS } from '../../conditions/factors.js';
import { round } from './json.js';
import type { Report } from '../../analysis/findings.js';

// optional factors (the three-tier device link) are not columns of two-tier reports (the three-tier report adds its own)
const FIELDS = FACTORS.filter((f) => !('optional' in f)).map((f) => f.field);
const BASE_HEADER = ['network', 'condition', ...FIELDS, 'cut', 'index', 'edge_ms', 'transfer_ms', 'cloud_ms', 'total_ms', 'total_p95_ms', 'samples', 'best', 'deployed', 'gain', 'repartition', 'gain_low', 'gain_high', 'significance', 'vs_best', 'vs_best_low', 'vs_best_high', 'tie', 'testbed_id', 'predicted'];

/** Data with codecs: 6 more columns at the end (files without codecs keep the columns they always had). */
const CODEC_HEADER = ['codec', 'bytes', 'encode_ms', 'decode_ms', 'within_budget', 'best_f32'];

/** Scenario runs (frames in flight): 10 more columns at the end (reports without them keep their columns). */
const STREAM_HEADER = ['scenario', 'fps', 'fps_low', 'fps_high', 'drop_fraction', 'p90_ms', 'p99_ms', 'queue_edge_ms', 'queue_cloud_ms', 'predicted_fps'];

/** Raced runs (dnn-edge --race): 3 more columns at the end: the race's rule, when it dropped the point (its samples then) and why. */
const RACE_HEADER = ['raced_rule', 'raced_samples', 'raced_reason'];

/** Three-tier runs: 3 more columns at the end: y of the configuration (`cut` is x) and the device's two metrics. */
const TIER_HEADER = ['cut2', 'device_ms', 'device_transfer_ms'];

/** One row per (network, condition, point or arm): everything needed to redo the analysis in a spreadsheet. */
export function formatCsv(report: Report): string {
  const codecs = report.networks.some((n) => n.conditions.some((c) => c.cuts.some((p) => p.codec !== undefined)));
  const streams = report.networks.some((n) => n.scenario !== undefined);
  const raced = report.networks.some((n) => n.conditions.some((c) => c.cuts.some((p) => p.raced)));
  const tiers = report.networks.some((n) => n.tiers);
  const rows: string[] = [[...BASE_HEADER, ...(codecs ? CODEC_HEADER : []), ...(streams ? STREAM_HEADER : []), ...(raced ? RACE_HEADER : []), ...(tiers ? TIER_HEADER : [])].join(',')];
  for (const n of report.networks) {
    for (const c of n.conditions) {
      for (const p of c.cuts) {
        rows.push(
          [
            n.network,
            c.key,
            ...FIELDS.map((f) => c.factors[f] ?? 'none'),
            p.cut,
            p.index,
            num(p.edge_ms),
            num(p.transfer_ms),
            num(p.cloud_ms),
            num(p.total_ms),
            num(p.total_p95_ms),
            p.samples,
            p.cut === c.best.cut && p.cut2 === c.best.cut2,
            p.cut === n.deployed.cut && p.cut2 === n.deployed.cut2,
            num(c.gain),
            c.repartition,
            num(c.gain_low),
            num(c.gain_high),
            c.significance,
            num(p.vs_best?.gain ?? null),
            num(p.vs_best?.low ?? null),
            num(p.vs_best?.high ?? null),
            p.vs_best ? p.vs_best.tie : '',
            n.testbed_id,
            c.predicted === true,
            ...(codecs ? [p.codec ?? '', num(p.bytes ?? null), num(p.encode_ms ?? null), num(p.decode_ms ?? null), p.within_budget !== false, c.best_f32?.cut ?? ''] : []),
            ...(streams
              ? [n.scenario ?? 'single', num(p.fps ?? null), num(p.fps_low ?? null), num(p.fps_high ?? null), num(p.drop_fraction ?? null), num(p.p90_ms ?? null), num(p.p99_ms ?? null), num(p.queue_ms?.edge ?? null), num(p.queue_ms?.cloud ?? null), num(p.predicted_fps ?? null)]
              : []),
            ...(raced ? [p.raced?.rule ?? '', p.raced?.samples ?? '', p.raced?.reason ?? ''] : []),
            ...(tiers ? [p.cut2 ?? '', num(p.device_ms ?? null), num(p.device_transfer_ms ?? null)] : []),
          ]
            .map((v) => csvField(String(v)))
            .join(','),
        );
      }
    }
  }
  return `${rows.join('\n')}\n`;
}

function num(v: number | null): string {
  return v === null ? '' : String(round(v));
}

function csvField(s: string): string {
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
