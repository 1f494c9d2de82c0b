import { conditionKey, type Condition } from '../../conditions/condition.js';
import { conditionAt, type Schedule } from '../../conditions/trace.js';
import { epochMs, type AppliedStep } from '../../conditions/trace-replay.js';
import type { HostTensor, SplitRunner } from '../../engine/split-runner.js';
import type { CutPoint } from '../../model/partition.js';
import type { CostModel } from '../../analysis/cost-model.js';
import { LinkFailure, type CloudLink } from '../cloud-link.js';
import { measureOnce } from '../measure.js';
import { CellRecorder } from '../samples.js';
import { bestFor, makePolicy, oracleCondition } from './policy.js';

/**
 * The adaptive run: for each policy in turn, the identical trace is replayed from its start while a
 * stream of inferences runs back to back (or one per `intervalMs`), each at the point the policy
 * chooses. Every request is logged (the timeline); the oracle's choice is logged with every request
 * of every policy, so agreement can be counted.
 */
export interface RequestRecord {
  policy: string;
  /** ms since the policy's replay started */
  t_ms: number;
  /** condition in force when the request started (tag syntax) */
  condition: string;
  rate_mbit: number | null;
  /** the policy's estimate of the rate (adaptive), else null */
  est_mbit: number | null;
  cut: string;
  oracle_cut: string;
  /** the point differs from the previous request's */
  switched: boolean;
  edge_ms: number;
  transfer_ms: number;
  cloud_ms: number;
  total_ms: number;
  /** a link probe the policy sent before this request (its time is in total_ms) */
  probe_ms?: number;
}

export interface StreamDeps {
  runner: SplitRunner;
  link: CloudLink;
  input: HostTensor;
  cuts: Map<string, CutPoint>;
  model: CostModel;
  schedule: Schedule;
  /** starts the trace's timeline for one policy; returns its start (epoch ms) */
  startReplay(onApplied: (a: AppliedStep) => void): Promise<number>;
  stopReplay(): Promise<void>;
  /** puts stress changes of the trace in effect (between requests); link changes are the replay's */
  applyStress(c: Condition): Promise<void>;
  /** one policy done: its histograms, timeline and applied steps, to be written */
  finished(policy: string, recorder: CellRecorder, requests: RequestRecord[], applied: AppliedStep[], startMs: number, endMs: number): Promise<void>;
  log(line: string): void;
}

export interface StreamOptions {
  policies: string[];
  /** fixed request rate: one request per interval; default back to back */
  intervalMs?: number;
  initialRate: number | null;
}

export async function runPolicies(o: StreamOptions, d: StreamDeps): Promise<void> {
  for (const name of o.policies) {
    const policy = makePolicy(name, d.model, o.initialRate);
    const recorder = new CellRecorder();
    const requests: RequestRecord[] = [];
    const applied: AppliedStep[] = [];
    let late = 0;
    const start = await d.startReplay((a) => {
      applied.push(a);
      if (a.error) d.log(`trace step ${a.step} (${a.condition}): ${a.error}`);
      if (Math.abs(a.applied_ms - a.scheduled_ms) > 20) late++;
    });
    d.log(`policy ${name}: replaying ${d.schedule.trace} for ${(d.schedule.lengthMs / 1000).toFixed(1)} s`);
    let stressKey = '';
    let prevCut: string | null = null;
    let failures = 0;
    try {
      for (let n = 0; ; n++) {
        if (o.intervalMs) {
          const due = start + n * o.intervalMs;
          const wait = due - epochMs();
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        }
        const t = epochMs() - start;
        if (t >= d.schedule.lengthMs) break;
        const inForce = conditionAt(d.schedule, t);
        const stress = conditionKey({ ...inForce, net: null, delay: 0, jitter: 0, loss: 0 });
        if (stress !== stressKey) {
          await d.applyStress(inForce);
          stressKey = stress;
        }
        let probeMs: number | undefined;
        const probe = policy.probe?.(t);
        if (probe) {
          const p0 = epochMs();
          try {
            const s = await measureOnce(d.runner, d.link, d.cuts.get(probe)!, d.input, { probe: true });
            policy.observe({ cut: probe, edge_ms: NaN, transfer_ms: s.transfer / 1000, cloud_ms: s.cloud / 1000, probe: true });
          } catch (e) {
            if (!(e instanceof LinkFailure)) throw e;
          }
          probeMs = epochMs() - p0;
        }
        const cut = policy.choose(inForce);
        const oracle = bestFor(d.model, oracleCondition(d.model, inForce));
        let s;
        try {
          s = await measureOnce(d.runner, d.link, d.cuts.get(cut)!, d.input);
          failures = 0;
        } catch (e) {
          if (!(e instanceof LinkFailure) || ++failures > 10) throw e;
          d.log(`policy ${name}: request failed (${e.message}); reconnecting`);
          await d.link.reconnect();
          continue;
        }
        const total = s.total / 1000 + (probeMs ?? 0);
        recorder.record({ ...s, total: total * 1000 });
        policy.observe({ cut, edge_ms: s.edge / 1000, transfer_ms: s.transfer / 1000, cloud_ms: s.cloud / 1000 });
        const est = policy.estimate();
        requests.push({
          policy: name,
          t_ms: round(t),
          condition: conditionKey(inForce),
          rate_mbit: inForce.net,
          est_mbit: est?.rate === null || est === null ? null : round(est.rate),
          cut,
          oracle_cut: oracle,
          switched: prevCut !== null && prevCut !== cut,
          edge_ms: round(s.edge / 1000),
          transfer_ms: round(s.transfer / 1000),
          cloud_ms: round(s.cloud / 1000),
          total_ms: round(total),
          ...(probeMs !== undefined ? { probe_ms: round(probeMs) } : {}),
        });
        prevCut = cut;
      }
    } finally {
      await d.stopReplay();
    }
    const end = epochMs();
    const switches = requests.filter((r) => r.switched).length;
    const agree = requests.filter((r) => r.cut === r.oracle_cut).length;
    d.log(
      `policy ${name}: ${requests.length} requests, mean ${(requests.reduce((a, r) => a + r.total_ms, 0) / Math.max(1, requests.length)).toFixed(1)} ms, ` +
        `${switches} switches, oracle's choice in ${((100 * agree) / Math.max(1, requests.length)).toFixed(0)} %; ` +
        `${applied.length} trace steps applied${late ? `, ${late} more than 20 ms late` : ''}`,
    );
    try {
      await d.finished(name, recorder, requests, applied, start, end);
    } finally {
      recorder.destroy();
    }
  }
}


const round = (v: number) => Math.round(v * 1000) / 1000;
