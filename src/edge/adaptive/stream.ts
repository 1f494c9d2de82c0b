import { conditionKey, type Condition } from '../../conditions/condition.js';
import { conditionAt, stepIndexAt, type Schedule } from '../../conditions/trace.js';
import { STRESS_FACTORS } from '../../conditions/factors.js';
import { epochMs, type AppliedStep } from '../../conditions/trace-replay.js';
import type { SplitRunner } from '../../engine/split-runner.js';
import type { CostModel } from '../../analysis/cost-model.js';
import { LinkFailure, type CloudLink } from '../cloud-link.js';
import type { Arm } from '../arms.js';
import { edgeStage, measureOnce, type SampleInput } from '../measure.js';
import { runPipeline, type PipelineStages } from '../stream/pipeline.js';
import { completed, frameSample } from '../stream/frame.js';
import type { StreamLine } from '../../results/stream-lines.js';
import { CellRecorder, type Sample } from '../samples.js';
import { bestFor, ModelPolicy, OraclePolicy, oracleCondition, StaticPolicy, type Decision, type Policy } from './policy.js';
import { LearningPolicy } from './learning-policy.js';
import { playReplay, slotPlan, type Slot } from './slots.js';

/**
 * The adaptive run: for each policy in turn, the identical trace is replayed from its start while a
 * stream of inferences runs back to back (or one per `intervalMs`), each at the arm (point, or
 * (point, codec) pair) the policy chooses, cycling through the run's inputs as the sweep does. Every
 * request is logged (the timeline); the oracle's choice is logged with every request of every policy,
 * so agreement can be counted.
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
  /** the arm chosen: the point, or POINT@CODEC for an encoded crossing (the results' arm label) */
  cut: string;
  oracle_cut: string;
  /** the arm differs from the previous request's */
  switched: boolean;
  edge_ms: number;
  transfer_ms: number;
  cloud_ms: number;
  total_ms: number;
  /** the edge encoding the crossing and the cloud decoding it (0: sent raw) */
  encode_ms: number;
  decode_ms: number;
  /** the INFER frame's bytes (0: edge-only, nothing sent) */
  bytes: number;
  /** a link probe the policy sent before this request (its time is in total_ms) */
  probe_ms?: number;
  /** the arm was chosen to learn its cost, not because it was predicted best (adaptive); absent otherwise */
  explore?: true;
  /** the policy's predicted total of the arm when it chose it (adaptive and model) */
  pred_ms?: number;
  /** a camera (--scenario stream:FPS): frames the camera dropped since the previous request (they could not start in time) */
  dropped?: number;
  /** a camera: the frame's arrival -> its edge compute started, ms (waiting for the edge or a slot in flight) */
  queue_ms?: number;
  /** interleaved replay (--policy-slot): the slot of trace time the request ran in, and its policy's place in that slot's order (0: first) */
  slot?: number;
  slot_pos?: number;
}

export interface StreamDeps {
  runner: SplitRunner;
  link: CloudLink;
  /** the run's inputs: request i takes inputs[i % n] (camera frames are preprocessed, timed, as in the sweep) */
  inputs: readonly SampleInput[];
  /** every arm the model may choose, by label (armName) */
  arms: ReadonlyMap<string, Arm>;
  model: CostModel;
  schedule: Schedule;
  /**
   * Starts the trace's timeline over `window` of trace time for one policy: the window's first
   * condition is put on the link, then `ready` runs, then the clock starts. Steps are reported in
   * trace time (indices and times of the whole schedule). Returns the clock's start (epoch ms).
   */
  startReplay(onApplied: (a: AppliedStep) => void, window: { fromMs: number; toMs: number }, ready: () => Promise<void>): Promise<number>;
  stopReplay(): Promise<void>;
  /** puts stress changes of the trace in effect (between requests); link changes are the replay's */
  applyStress(c: Condition): Promise<void>;
  /** one policy done: its histograms, timeline and applied steps (and with a camera its counts), to be written */
  finished(policy: string, recorder: CellRecorder, requests: RequestRecord[], applied: AppliedStep[], startMs: number, endMs: number, camera?: CameraCounts): Promise<void>;
  /**
   * Interleaved replay: a turn's requests, written (fsynced) as soon as the turn ends, so a run
   * killed before its last slot keeps every request line it measured (`finished` then gets only
   * those not yet written). Absent: every request goes with `finished`.
   */
  turnDone?(requests: RequestRecord[]): Promise<void>;
  log(line: string): void;
}

export interface StreamOptions {
  policies: string[];
  /** fixed request rate: one request per interval; default back to back */
  intervalMs?: number;
  initialRate: number | null;
  /** --scenario stream:FPS: a camera's frames, several in flight, instead of requests one at a time */
  camera?: { fps: number; inFlight: number };
  /** --policy-slot: interleaved replay in slots of this much trace time (ms); null/absent: each policy replays the whole trace in turn */
  slotMs?: number | null;
  /** seed of the slots' shuffled orders */
  slotSeed?: number;
}

/** A policy's frames under a camera: the `#dnn-stream` line of its run. */
export type CameraCounts = Omit<StreamLine, 'cell'>;

/** The policy a --policies name stands for (names as parsePolicies gives them). */
export function makePolicy(name: string, model: CostModel, initialRate: number | null): Policy {
  if (name === 'adaptive') return new LearningPolicy(model, undefined, initialRate);
  if (name === 'model') return new ModelPolicy(model, undefined, initialRate);
  if (name === 'oracle') return new OraclePolicy(model);
  return new StaticPolicy(name.slice('static:'.length));
}

export async function runPolicies(o: StreamOptions, d: StreamDeps): Promise<void> {
  if (o.camera && o.slotMs != null) throw new Error('bug: a camera replays each policy in one pass (--policy-slot off)');
  const plan = slotPlan(d.schedule.lengthMs, o.slotMs ?? null, o.policies, o.slotSeed ?? 0);
  if (plan.length > 1) d.log(`interleaved replay: ${plan.length} slots of ${((o.slotMs ?? 0) / 1000).toFixed(1)} s, in each every policy in turn (order shuffled per slot, seed ${o.slotSeed ?? 0})`);
  const runs = new Map(o.policies.map((name) => [name, newRun(name, o, d)]));
  const machine: Machine = { stress: '', lastArm: null };
  await playReplay(
    plan,
    runs,
    d.log,
    (run, slot, pos) => runSlot(run, slot, pos, o, d, machine),
    d.turnDone?.bind(d),
    (run) => finishRun(run, o, d),
  );
}

/** What the machine is left in between slots, whichever policy ran last: the stress in effect and the arm last computed (warm). */
interface Machine {
  stress: string;
  lastArm: string | null;
}

/** What one policy's run keeps across its slots: its histograms, its timeline, the trace steps applied under it, its place in the inputs. */
interface PolicyStream {
  name: string;
  policy: Policy;
  recorder: CellRecorder;
  requests: RequestRecord[];
  /** how many of `requests` are already in the results file (interleaved replay: written turn by turn) */
  written: number;
  applied: AppliedStep[];
  /** trace steps applied more than 20 ms off schedule */
  late: number;
  /** following stress: the latest trace step that changed a stress factor, until the policy's greedy choice changes after it */
  follow: StressFollow;
  /** requests so far (the next takes inputs[n % inputs.length]), the arm of the latest, link failures in a row */
  n: number;
  prevCut: string | null;
  /** the arm of its latest greedy (not exploring) request: what its next turn most likely computes first */
  greedyCut: string | null;
  failures: number;
  /** epoch ms of its first slot's start and its last slot's end */
  startMs: number;
  endMs: number;
  /** with a camera: frames offered, completed, dropped, refused, first arrival and last reply (performance.now) */
  camera?: { offered: number; completed: number; dropped: number; refused: number; first: number; last: number; stress?: { cpu: number; mem: number } };
}

function newRun(name: string, o: StreamOptions, d: StreamDeps): PolicyStream {
  const run: PolicyStream = {
    name,
    policy: makePolicy(name, d.model, o.initialRate),
    recorder: new CellRecorder(),
    requests: [],
    written: 0,
    applied: [],
    late: 0,
    follow: new StressFollow(name, d.schedule, d.log),
    n: 0,
    prevCut: null,
    greedyCut: null,
    failures: 0,
    startMs: NaN,
    endMs: NaN,
  };
  return run;
}

/**
 * One policy's part of one slot: the slot's piece of the trace replayed under its stream of
 * requests (trace time continues from the policy's previous slot). Before the clock starts, with
 * the slot's first condition on the link: the stress in force at the slot's start, and, when the
 * machine last computed another arm than the policy's latest greedy one, one untimed, unrecorded
 * request of that arm, so it does not pay for the previous policy having warmed other sessions
 * (on a CPU-quota edge a cold arm computed 5-7x slower once). The greedy arm, not an exploration's:
 * a turn that ended on an exploration goes on with its greedy choice.
 */
async function runSlot(run: PolicyStream, slot: Slot, pos: number | null, o: StreamOptions, d: StreamDeps, machine: Machine): Promise<void> {
  const window = { fromMs: slot.fromMs, toMs: slot.toMs };
  const ready = async () => {
    machine.stress = await applyStressChange(conditionAt(d.schedule, slot.fromMs), machine.stress, d);
    const warm = run.greedyCut ?? run.prevCut;
    if (pos !== null && warm !== null && machine.lastArm !== warm) {
      await warmUp(d, warm);
      machine.lastArm = warm;
    }
  };
  const start = await d.startReplay(
    (a) => {
      run.applied.push(a);
      if (a.error) d.log(`trace step ${a.step} (${a.condition}): ${a.error}`);
      if (Math.abs(a.applied_ms - a.scheduled_ms) > 20) run.late++;
    },
    window,
    ready,
  );
  if (Number.isNaN(run.startMs)) run.startMs = start;
  if (pos === null) d.log(`policy ${run.name}: replaying ${d.schedule.trace} for ${((slot.toMs - slot.fromMs) / 1000).toFixed(1)} s`);
  try {
    if (o.camera) await streamCamera(run, start, o.camera, d, machine);
    else await streamRequests(run, { start, slot, pos }, o, d, machine);
  } finally {
    await d.stopReplay();
  }
  run.endMs = epochMs();
}

/** One request of the arm, not timed for anything: the sessions of an arm another policy left cold. */
async function warmUp(d: StreamDeps, cut: string): Promise<void> {
  try {
    await measureOnce(d.runner, d.link, armOf(d, cut), d.inputs[0]!);
  } catch (e) {
    if (!(e instanceof LinkFailure)) throw e;
    await d.link.reconnect();
  }
}

/** A policy's last slot done: its summary logged, its results handed on. */
async function finishRun(run: PolicyStream, o: StreamOptions, d: StreamDeps): Promise<void> {
  d.log(runSummary(run));
  try {
    await d.finished(run.name, run.recorder, run.requests.slice(run.written), run.applied, run.startMs, run.endMs, o.camera && cameraCounts(run, o.camera));
  } finally {
    run.recorder.destroy();
  }
}

/**
 * Requests back to back (or one per interval of trace time) until the slot's end, each at the arm
 * the policy chooses; `t_ms` is trace time (the slot's start + the time since its clock started).
 * The request in flight at the slot's end finishes, counted, before the next policy's turn.
 */
async function streamRequests(run: PolicyStream, at: { start: number; slot: Slot; pos: number | null }, o: StreamOptions, d: StreamDeps, machine: Machine): Promise<void> {
  const { start, slot, pos } = at;
  const now = () => epochMs() - start + slot.fromMs;
  // with --interval the requests keep one grid of trace time across slots: request m at m x interval
  let m = o.intervalMs ? Math.ceil(slot.fromMs / o.intervalMs) : 0;
  for (; ; m++) {
    if (o.intervalMs) await sleepUntil(start + m * o.intervalMs - slot.fromMs);
    const t = now();
    if (t >= slot.toMs) break;
    const inForce = conditionAt(d.schedule, t);
    machine.stress = await applyStressChange(inForce, machine.stress, d);
    const probeMs = await probeLink(run.policy, t, d);
    const cut = run.policy.choose(inForce);
    const decision = run.policy.decision?.();
    run.follow.chose(t, inForce, cut, decision);
    const oracle = bestFor(d.model, oracleCondition(d.model, inForce));
    let s: Sample;
    try {
      s = await measureOnce(d.runner, d.link, armOf(d, cut), d.inputs[run.n % d.inputs.length]!);
      run.failures = 0;
    } catch (e) {
      if (!(e instanceof LinkFailure) || ++run.failures > 10) throw e;
      d.log(`policy ${run.name}: request failed (${e.message}); reconnecting`);
      await d.link.reconnect();
      continue;
    } finally {
      run.n++;
    }
    machine.lastArm = cut;
    const total = s.total / 1000 + (probeMs ?? 0);
    run.recorder.record({ ...s, total: total * 1000 });
    run.policy.observe(observation(cut, s));
    const r = requestRecord(run, { t, inForce, cut, oracle, switched: run.prevCut !== null && run.prevCut !== cut, s, total, probeMs, decision });
    run.requests.push(pos === null ? r : { ...r, slot: slot.index, slot_pos: pos });
    run.prevCut = cut;
    if (!decision?.explore) run.greedyCut = cut;
    // Let pending I/O through between back-to-back requests: an edge-only request on a backend that
    // computes synchronously never waits for I/O, and the replay's step reports would queue until
    // the policy's end (they are not lost: stopReplay delivers them all).
    if (!o.intervalMs) await new Promise((resolve) => setImmediate(resolve));
  }
}

/** What a camera frame's request knows when its edge stage starts: the condition, the policy's choice, the frames dropped before it. */
interface FrameChoice {
  t: number;
  inForce: Condition;
  cut: string;
  oracle: string;
  switched: boolean;
  probeMs: number | undefined;
  dropped: number;
  decision: Decision | undefined;
}

/**
 * A camera under the trace (--scenario stream:FPS): frames every 1/FPS through the pipeline of
 * scenario cells (src/edge/stream/pipeline.ts), up to `inFlight` of them in flight; each frame's
 * arm is the policy's choice when its edge stage starts (a probe the policy asks for runs first,
 * in the frame's time), and the policy observes each frame as it completes. A frame that cannot
 * start before the next arrives is dropped: counted on the next request's line and in the policy's
 * counts. A link failure loses the frames in flight (not counted); the camera goes on after a
 * reconnect for the rest of the trace.
 */
async function streamCamera(run: PolicyStream, start: number, camera: { fps: number; inFlight: number }, d: StreamDeps, machine: Machine): Promise<void> {
  const counts: NonNullable<PolicyStream['camera']> = { offered: 0, completed: 0, dropped: 0, refused: 0, first: Infinity, last: 0 };
  run.camera = counts;
  let prevCut: string | null = null;
  let dropsSince = 0;
  let failures = 0;
  let frameBase = 0;
  for (;;) {
    const frames = Math.floor(((d.schedule.lengthMs - (epochMs() - start)) * camera.fps) / 1000);
    if (frames <= 0) return;
    const base = frameBase;
    frameBase += frames;
    const chosen = new Map<number, FrameChoice>();
    const stages: PipelineStages = {
      edge: async (i) => {
        const t = epochMs() - start;
        const inForce = conditionAt(d.schedule, t);
        machine.stress = await applyStressChange(inForce, machine.stress, d);
        const probeMs = await probeLink(run.policy, t, d);
        const cut = run.policy.choose(inForce);
        const decision = run.policy.decision?.();
        run.follow.chose(t, inForce, cut, decision);
        chosen.set(i, { t, inForce, cut, oracle: bestFor(d.model, oracleCondition(d.model, inForce)), switched: prevCut !== null && prevCut !== cut, probeMs, dropped: dropsSince, decision });
        dropsSince = 0;
        prevCut = cut;
        return edgeStage(d.runner, armOf(d, cut), d.inputs[(base + i) % d.inputs.length]!);
      },
      cloud: (out, i) => d.link.infer(armOf(d, chosen.get(i)!.cut).cut, out.tensor!, out.encoded),
      settled: (f) => {
        counts.offered++;
        counts.first = Math.min(counts.first, f.arrival);
        if (!completed(f)) {
          counts.dropped++;
          if (f.refused) counts.refused++;
          dropsSince++;
          return;
        }
        counts.completed++;
        counts.last = Math.max(counts.last, f.reply!);
        const c = chosen.get(f.i)!;
        chosen.delete(f.i);
        counts.stress ??= f.stress ? { cpu: f.stress.cpu, mem: f.stress.mem } : { cpu: c.inForce.ccpu, mem: c.inForce.cmem };
        const s = frameSample(f);
        run.recorder.record(s);
        run.policy.observe(observation(c.cut, s));
        const r = requestRecord(run, { t: c.t, inForce: c.inForce, cut: c.cut, oracle: c.oracle, switched: c.switched, s, total: s.total / 1000, probeMs: c.probeMs, decision: c.decision });
        run.requests.push({ ...r, dropped: c.dropped, queue_ms: round((s.queue_edge ?? 0) / 1000) });
      },
    };
    try {
      await runPipeline({ scenario: { kind: 'stream', fps: camera.fps }, frames, inFlight: camera.inFlight, seed: 1 }, stages);
      return;
    } catch (e) {
      if (!(e instanceof LinkFailure) || ++failures > 10) throw e;
      d.log(`policy ${run.name}: a frame failed (${e.message}); reconnecting, the camera goes on`);
      await d.link.reconnect();
    }
  }
}

/** A policy's camera counts as its `#dnn-stream` line. */
function cameraCounts(run: PolicyStream, camera: { fps: number; inFlight: number }): CameraCounts {
  const c = run.camera!;
  const elapsed = c.completed > 0 ? c.last - c.first : 0;
  return {
    scenario: `stream:${String(camera.fps)}`,
    edge: 0,
    offered: c.offered,
    completed: c.completed,
    dropped: c.dropped,
    refused: c.refused,
    elapsed_ms: round(elapsed),
    fps: elapsed > 0 ? round((c.completed * 1000) / elapsed) : 0,
    in_flight: camera.inFlight,
    // the first answered frame's (a trace may change it: each request's condition is on its line)
    cloud_stress: c.stress ?? { cpu: 0, mem: 0 },
  };
}

async function sleepUntil(epoch: number): Promise<void> {
  // a timer may fire up to a millisecond before the clock reads its time: wait again until it does
  for (let wait = epoch - epochMs(); wait > 0; wait = epoch - epochMs()) await new Promise((r) => setTimeout(r, Math.ceil(wait)));
}

/** Puts the stress of the condition in force into effect when it changed (link changes are the replay's); returns the stress now in effect. */
async function applyStressChange(inForce: Condition, inEffect: string, d: StreamDeps): Promise<string> {
  const stress = conditionKey({ ...inForce, net: null, delay: 0, jitter: 0, loss: 0 });
  if (stress !== inEffect) await d.applyStress(inForce);
  return stress;
}

function armOf(d: StreamDeps, label: string): Arm {
  const arm = d.arms.get(label);
  if (!arm) throw new Error(`bug: the policy chose ${label}, which is not among the run's arms`);
  return arm;
}

/** The link probe the policy asks for before a request, if any: its time in ms (counted in the request's total), else undefined. */
async function probeLink(policy: Policy, t: number, d: StreamDeps): Promise<number | undefined> {
  const probe = policy.probe?.(t);
  if (!probe) return undefined;
  const p0 = epochMs();
  try {
    const s = await measureOnce(d.runner, d.link, armOf(d, probe), d.inputs[0]!, { probe: true });
    policy.observe({ cut: probe, edge_ms: NaN, transfer_ms: s.transfer / 1000, cloud_ms: s.cloud / 1000, probe: true, bytes: s.bytes });
  } catch (e) {
    if (!(e instanceof LinkFailure)) throw e;
  }
  return epochMs() - p0;
}

/** What the policy learns from a request (ms). */
function observation(cut: string, s: Sample) {
  return { cut, edge_ms: s.edge / 1000, transfer_ms: s.transfer / 1000, cloud_ms: s.cloud / 1000, bytes: s.bytes, encode_ms: s.encode / 1000, decode_ms: s.decode / 1000, total_ms: s.total / 1000 };
}

/** One request of the timeline, times in ms. */
function requestRecord(
  run: PolicyStream,
  r: { t: number; inForce: Condition; cut: string; oracle: string; switched: boolean; s: Sample; total: number; probeMs: number | undefined; decision: Decision | undefined },
): RequestRecord {
  const est = run.policy.estimate();
  return {
    policy: run.name,
    t_ms: round(r.t),
    condition: conditionKey(r.inForce),
    rate_mbit: r.inForce.net,
    est_mbit: est?.rate === null || est === null ? null : round(est.rate),
    cut: r.cut,
    oracle_cut: r.oracle,
    switched: r.switched,
    edge_ms: round(r.s.edge / 1000),
    transfer_ms: round(r.s.transfer / 1000),
    cloud_ms: round(r.s.cloud / 1000),
    total_ms: round(r.total),
    encode_ms: round(r.s.encode / 1000),
    decode_ms: round(r.s.decode / 1000),
    bytes: r.s.bytes,
    ...(r.probeMs !== undefined ? { probe_ms: round(r.probeMs) } : {}),
    ...(r.decision?.explore ? { explore: true as const } : {}),
    ...(r.decision && Number.isFinite(r.decision.pred_ms) ? { pred_ms: round(r.decision.pred_ms) } : {}),
  };
}

/**
 * Says when a policy follows a change of stress: after a trace step that changed a stress factor,
 * the first change of its greedy choice (explorations aside), as one log line, e.g.
 * `adaptive: after the step at 30.0 s (ecpu 0 -> 100) it moved to conv_pw_6 at 33.4 s`.
 */
class StressFollow {
  private stress: Condition | null = null;
  private step: { atMs: number; change: string } | null = null;
  private greedy: string | null = null;

  constructor(
    private readonly policy: string,
    private readonly schedule: Schedule,
    private readonly log: (line: string) => void,
  ) {}

  chose(t: number, inForce: Condition, cut: string, decision: Decision | undefined): void {
    const changed = this.stress === null ? [] : STRESS_FACTORS.filter((k) => inForce[k] !== this.stress![k]);
    if (changed.length) this.step = { atMs: this.schedule.steps[stepIndexAt(this.schedule, t)]!.atMs, change: changed.map((k) => `${k} ${String(this.stress![k])} -> ${String(inForce[k])}`).join(', ') };
    this.stress = inForce;
    if (decision?.explore) return;
    if (this.step && this.greedy !== null && cut !== this.greedy) {
      this.log(`${this.policy}: after the step at ${(this.step.atMs / 1000).toFixed(1)} s (${this.step.change}) it moved to ${cut} at ${(t / 1000).toFixed(1)} s`);
      this.step = null;
    }
    this.greedy = cut;
  }
}

/** The line a policy's run ends with: requests, mean, switches, agreement with the oracle, trace steps. */
function runSummary(run: PolicyStream): string {
  const { requests, applied, late } = run;
  const switches = requests.filter((r) => r.switched).length;
  const agree = requests.filter((r) => r.cut === r.oracle_cut).length;
  const cam = run.camera ? `, camera: ${run.camera.dropped} of ${run.camera.offered} frames dropped (${((100 * run.camera.dropped) / Math.max(1, run.camera.offered)).toFixed(1)} %)` : '';
  const explored = requests.filter((r) => r.explore);
  const busy = requests.reduce((a, r) => a + r.total_ms, 0);
  const explore = run.policy.decision
    ? `, explored ${explored.length} (${((100 * explored.length) / Math.max(1, requests.length)).toFixed(1)} % of requests, ${((100 * explored.reduce((a, r) => a + r.total_ms, 0)) / Math.max(1, busy)).toFixed(1)} % of their time)`
    : '';
  return (
    `policy ${run.name}: ${requests.length} requests${cam}, mean ${(requests.reduce((a, r) => a + r.total_ms, 0) / Math.max(1, requests.length)).toFixed(1)} ms, ` +
    `${switches} switches${explore}, oracle's choice in ${((100 * agree) / Math.max(1, requests.length)).toFixed(0)} %; ` +
    `${applied.length} trace steps applied${late ? `, ${late} more than 20 ms late` : ''}`
  );
}

const round = (v: number) => Math.round(v * 1000) / 1000;
