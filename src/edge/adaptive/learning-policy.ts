import type { CostModel } from '../../analysis/cost-model.js';
import { MIN_COMPUTE_SHARE, MODEL_DEFAULTS, ModelPolicy, referenceStress, type ArmParts, type Decision, type Estimate, type Observation, type Policy } from './policy.js';

/**
 * The `adaptive` policy: the cost model is its prior, corrected online from what every request
 * costs, with exploration under a hard budget. Pure (no I/O), like policy.ts.
 *
 * Prediction of an arm: corrected edge + corrected cloud + fixed + wire(rate estimate), where
 * - the rate and each end's slowdown are the model policy's estimates (learned from every request:
 *   the shared context; a change of rate or of stress moves every arm's prediction at once);
 * - each arm's edge part (compute and encoding) and cloud part (decoding and compute) carry a
 *   multiplicative correction of their own, learned from the residual of that arm's observations
 *   against the shared estimate: so an arm's estimate converges to what it really costs, and the
 *   correction (a ratio) stays valid when the end's slowdown changes. An arm never run keeps the
 *   prior, scaled by what the other arms taught about its end.
 * The transfer is left to the rate estimate: with one arm running, a per-arm transfer residual
 * cannot be told apart from a change of rate, and would learn the trace as a property of the arm.
 *
 * Exploration (a lower confidence bound on latency): an arm's estimate is uncertain by a share
 * that grows with the stream's time since it was last observed (`driftPerS`, up to `maxDrift`;
 * an arm never run: `maxDoubt`), part by part: what its end or the link may have drifted since any
 * arm measured them, and its own correction since it ran (`optimistic`). The next request explores
 * the arm whose optimistic estimate is lowest, if that is below the greedy arm's prediction, and only
 * while the time spent exploring stays within `budget` of the stream's time (a hard cap: an
 * arm is explored only when the budget already earned covers its predicted cost). A time budget,
 * not a request budget: exploring a slow arm (edge-only at 3x the cost) costs its time, not one
 * request's share. An exploration is one request; the greedy choice keeps its hysteresis and
 * minimum dwell (explorations do not count as dwell), so it changes only when the measurement
 * made another arm better by the margin.
 */
export interface LearningOptions {
  /** weight of the newest observation in an arm's own corrections (0..1] */
  alpha: number;
  /** switch the greedy choice only for a predicted gain of at least this share */
  hysteresis: number;
  /** ...and after this many (greedy) requests on the current arm */
  minDwell: number;
  /** the share of the stream's time exploration may take (0: never explore) */
  budget: number;
  /** an arm's relative doubt grows by this much per second of stream time since it was observed */
  driftPerS: number;
  /** the doubt of an arm never run: how wrong the prior may be */
  maxDoubt: number;
  /** the largest doubt of an arm once measured: how far its cost may drift unseen (less than the prior may be wrong) */
  maxDrift: number;
  /**
   * the largest doubt of a measured arm's own corrections, where its end (or the link) is measured
   * meanwhile through other arms: what may drift unseen is then only the arm's ratio to its end
   * (>= maxDrift: the doubt of the whole arm, as before 2026-12-05)
   */
  maxArmDrift: number;
  /** learn from observed compute (the ends' slowdowns and the arms' corrections); off: the prior and the rate only */
  correct: boolean;
}

export const LEARNING_DEFAULTS: LearningOptions = { alpha: 0.3, hysteresis: 0.05, minDwell: 3, budget: 0.05, driftPerS: 0.02, maxDoubt: 0.5, maxDrift: 0.5, maxArmDrift: 0.2, correct: true };

/** A ratio learned from one observation is kept within this factor of the shared estimate (a request stalled by the scheduler is not an arm's cost). */
const MAX_RATIO = 5;
/** A greedy request whose end computed more than this many times its prediction waits for the next to confirm it. */
const STALL = 2;
/** Choices in a row a challenger must win by the margin to become the greedy choice. */
const CONFIRM = 2;
/** Choices after which an exploration whose observation never came (a frame lost with the link) is given up. */
const PENDING_LIMIT = 16;

interface ArmState {
  /** the arm's own corrections of the edge and cloud parts (x the shared slowdown) */
  edge: number;
  cloud: number;
  /** stream time (ms of requests) when last observed; undefined: never */
  seen?: number;
}

export class LearningPolicy implements Policy {
  readonly name = 'adaptive';
  /** the shared context: rate and each end's slowdown, learned as the model policy learns them */
  private readonly shared: ModelPolicy;
  private readonly arms = new Map<string, ArmState>();
  private readonly cuts: string[];
  private current: string | null = null;
  private dwell = 0;
  private last: Decision = { pred_ms: NaN, explore: false };
  /** the stream's time so far (sum of observed totals) and the part spent exploring */
  private busyMs = 0;
  private exploreMs = 0;
  /** the arm of an exploration whose observation is pending (its time counts as exploring), and the choices made since */
  private exploring: string | null = null;
  private pendingFor = 0;
  /** an arm that beat the current one by the margin at the latest choices, and how many in a row */
  private challenger: { cut: string; times: number } | null = null;
  /** a greedy observation far slower than predicted, waiting for the next to confirm it (see observe) */
  private suspect: Observation | null = null;
  /** greedy requests since the latest exploration */
  private greedySince = 0;
  /** stream time when each end's shared slowdown and the link's rate last learned from a request (undefined: never) */
  private readonly seenPart: { edge?: number; cloud?: number; link?: number } = {};
  private readonly edgeMin: number;
  private readonly cloudMin: number;
  private readonly prior: ModelPolicy;
  /** the profile's reference stress level (referenceStress sorts the model's levels: once, not per request) */
  private readonly ref: ReturnType<typeof referenceStress>;

  constructor(
    private readonly model: CostModel,
    private readonly o: LearningOptions = LEARNING_DEFAULTS,
    initialRate: number | null = null,
  ) {
    this.shared = new ModelPolicy(model, MODEL_DEFAULTS, initialRate);
    // the uncorrected prior at the shared rate: what the parts are scaled against when correction is off
    this.prior = new ModelPolicy(model, MODEL_DEFAULTS, initialRate);
    const ref = (this.ref = referenceStress(model));
    this.cuts = [...ref.edge.keys()];
    for (const c of this.cuts) this.arms.set(c, { edge: 1, cloud: 1 });
    this.edgeMin = MIN_COMPUTE_SHARE * Math.max(...ref.edge.values());
    this.cloudMin = MIN_COMPUTE_SHARE * Math.max(...ref.cloud.values());
  }

  estimate(): Estimate {
    return this.o.correct ? this.shared.estimate() : { ...this.shared.estimate(), edgeSlowdown: 1, cloudSlowdown: 1 };
  }

  decision(): Decision {
    return this.last;
  }

  /** The arm's predicted parts: the shared estimates', each end's part corrected by the arm's own ratio. */
  private parts(cut: string): ArmParts {
    if (!this.o.correct) return { ...this.prior.parts(cut), wire: this.shared.parts(cut).wire };
    const p = this.shared.parts(cut);
    const a = this.arms.get(cut)!;
    return { ...p, edge: p.edge * a.edge, cloud: p.cloud * a.cloud };
  }

  predicted(cut: string): number {
    const p = this.parts(cut);
    return p.edge + p.cloud + p.fixed + p.wire;
  }

  /** How uncertain the arm's estimate is, as a share of it: grows with the time since it was observed. */
  doubt(cut: string): number {
    return this.drift(this.arms.get(cut)!.seen, this.o.maxDrift);
  }

  /** A share that grows by driftPerS per second of stream time since `seen`, up to `cap`; never seen: maxDoubt. */
  private drift(seen: number | undefined, cap: number): number {
    return seen === undefined ? this.o.maxDoubt : Math.min(cap, (this.o.driftPerS * (this.busyMs - seen)) / 1000);
  }

  /**
   * The arm's optimistic estimate, a lower confidence bound: each part less its doubt. An arm never
   * run: all of it by maxDoubt (the prior may be that wrong). A measured arm: each part by what
   * may have drifted unseen -- the shared estimate it scales (its end's slowdown, or the link's
   * rate for its transfer) since any arm last taught it, and the arm's own correction since the arm
   * was last run, that one up to maxArmDrift. So an arm whose end the greedy arm measures all along
   * (on the 10x onnx edge, conv_dw_13_bn while edge-only ran: ~95 % of its cost is edge-only's own
   * compute) is not re-explored for the doubt of a part that is being measured: each such
   * exploration cost 170-400 ms there (cold). An end nobody measures (the edge while cloud-only
   * runs) keeps the whole drift, as before.
   */
  optimistic(cut: string, pred: number): number {
    const seen = this.arms.get(cut)!.seen;
    if (seen === undefined || !this.o.correct) return pred * (1 - this.doubt(cut));
    const own = this.drift(seen, Math.min(this.o.maxArmDrift, this.o.maxDrift));
    const part = (shared: number | undefined) => 1 - Math.max(own, this.drift(shared, this.o.maxDrift));
    const p = this.parts(cut);
    return p.edge * part(this.seenPart.edge) + p.cloud * part(this.seenPart.cloud) + (p.fixed + p.wire) * part(this.seenPart.link);
  }

  choose(): string {
    const pred = new Map(this.cuts.map((c) => [c, this.predicted(c)]));
    const best = this.cuts.reduce((a, b) => (pred.get(b)! < pred.get(a)! ? b : a));
    // A switch needs the margin twice in a row, with an observation of the current arm between: an
    // exploration's lucky draw alone does not move the greedy choice (it flapped in simulation)
    const wins = this.current !== null && best !== this.current && pred.get(best)! * (1 + this.o.hysteresis) <= pred.get(this.current)!;
    this.challenger = wins ? (this.challenger?.cut === best ? { cut: best, times: this.challenger.times + 1 } : { cut: best, times: 1 }) : null;
    if (this.current === null || (wins && this.dwell >= this.o.minDwell && this.challenger!.times >= CONFIRM)) {
      this.current = best;
      this.dwell = 0;
      this.challenger = null;
    }
    const explore = this.exploration(pred);
    if (explore !== null) {
      this.exploring = explore;
      this.pendingFor = 0;
      this.greedySince = 0;
      this.last = { pred_ms: pred.get(explore)!, explore: true };
      return explore;
    }
    this.dwell++;
    this.greedySince++;
    this.last = { pred_ms: pred.get(this.current)!, explore: false };
    return this.current;
  }

  /** The arm to explore now, or null: the lowest optimistic estimate below the greedy arm's prediction, within the budget. */
  private exploration(pred: Map<string, number>): string | null {
    // one exploration at a time (frames in flight): a lost one (a link failure) is given up after a while
    if (this.exploring !== null && ++this.pendingFor < PENDING_LIMIT) return null;
    this.exploring = null;
    // only once the greedy choice has settled (within its dwell a better arm is a switch to come, not an exploration)
    // and with greedy requests between explorations: an exploration is one request, then the policy returns to its choice
    if (this.o.budget <= 0 || this.dwell < this.o.minDwell || this.greedySince < this.o.minDwell) return null;
    // only arms that could beat the greedy one by the switching margin: a result within it would change nothing
    const greedy = pred.get(this.current!)! / (1 + this.o.hysteresis);
    let pick: string | null = null;
    let lowest = greedy;
    for (const c of this.cuts) {
      if (c === this.current) continue;
      const lcb = this.optimistic(c, pred.get(c)!);
      if (lcb < lowest) {
        lowest = lcb;
        pick = c;
      }
    }
    // the most promising arm waits until the budget covers it (a cheaper arm taking the budget first would starve it)
    return pick !== null && this.exploreMs + pred.get(pick)! <= this.o.budget * this.busyMs ? pick : null;
  }

  /**
   * An observation as the shared slowdowns learn from it: each end's compute within [1/2, 2] of the
   * shared prediction, so one request moves an end's slowdown by at most half of a factor 2 (a
   * greedy edge-only request on the 10x onnx edge stalled 437 ms for ~92: unclamped it tripled the
   * edge's slowdown and moved the greedy choice to cloud-only, which never measures the edge again);
   * a lasting change is still followed, compounding over a few requests. An exploration's compute
   * counts at most as predicted: coldness only slows a request (an arm not run for a while), so an
   * exploration faster than predicted says the end is faster, one slower may only be cold.
   */
  private forShared(o: Observation, explored: boolean): Observation {
    const p = this.shared.parts(o.cut);
    const up = explored ? 1 : 2;
    const within = (obs: number, pred: number) => (pred > 0 && Number.isFinite(obs) ? Math.min(up * pred, Math.max(pred / 2, obs)) : obs);
    const edge = within(o.edge_ms + (o.encode_ms ?? 0), p.edge) - (o.encode_ms ?? 0);
    const cloud = within(o.cloud_ms + (o.decode_ms ?? 0), p.cloud) - (o.decode_ms ?? 0);
    return { ...o, edge_ms: Math.max(0, edge), cloud_ms: Math.max(0, cloud) };
  }

  observe(o: Observation): void {
    // The shared context learns from every request as the model policy does, each clamped (forShared).
    const explored = this.exploring === o.cut;
    const total = o.total_ms ?? o.edge_ms + (o.encode_ms ?? 0) + o.transfer_ms + (o.decode_ms ?? 0) + o.cloud_ms;
    if (!o.probe && Number.isFinite(total)) {
      this.busyMs += total;
      if (explored) {
        this.exploreMs += total;
        this.exploring = null;
      }
    }
    if (!o.probe && !explored && this.o.correct) {
      // A greedy request far slower than predicted is held until the next one says whether the end
      // really slowed (then both teach) or it stalled once (then it teaches nothing): a CPU quota
      // throttles in bursts (a 92 ms edge-only request took 437 ms once, the next 92 again).
      const stalled = this.stalled(o);
      const held = this.suspect;
      this.suspect = null;
      if (stalled && !held) {
        this.suspect = o;
        const arm = this.arms.get(o.cut);
        if (arm) arm.seen = this.busyMs;
        return;
      }
      if (stalled && held) this.learn(held, false);
    }
    this.learn(o, explored);
  }

  /** An end computed more than STALL times the arm's prediction of it. */
  private stalled(o: Observation): boolean {
    const p = this.parts(o.cut);
    const over = (obs: number, pred: number) => pred > 0 && Number.isFinite(obs) && obs > STALL * pred;
    return over(o.edge_ms + (o.encode_ms ?? 0), p.edge) || (!this.model.local.has(o.cut) && over(o.cloud_ms + (o.decode_ms ?? 0), p.cloud));
  }

  /** The arm does enough on the end for its time there to teach the end's slowdown and the arm's correction. */
  private computesOn(end: 'edge' | 'cloud', cut: string): boolean {
    const ref = this.ref;
    if (end === 'edge') return (ref.edge.get(cut) ?? 0) + (ref.encode.get(cut) ?? 0) >= this.edgeMin;
    return !this.model.local.has(cut) && (ref.cloud.get(cut) ?? 0) + (ref.decode.get(cut) ?? 0) >= this.cloudMin;
  }

  private learn(o: Observation, explored: boolean): void {
    this.shared.observe(this.forShared(o, explored));
    if (!this.model.local.has(o.cut)) this.seenPart.link = this.busyMs;
    if (o.probe) return;
    if (this.computesOn('edge', o.cut)) this.seenPart.edge = this.busyMs;
    if (this.computesOn('cloud', o.cut)) this.seenPart.cloud = this.busyMs;
    const arm = this.arms.get(o.cut);
    if (!arm) return;
    const a = this.o.alpha;
    arm.seen = this.busyMs;
    if (!this.o.correct) return;
    const p = this.shared.parts(o.cut);
    const edgeObs = o.edge_ms + (o.encode_ms ?? 0);
    const cloudObs = o.cloud_ms + (o.decode_ms ?? 0);
    // an end's part of an arm where it does (next to) nothing (cloud-only's edge no-op, edge-only's cloud) is left out: its jitter is not a ratio
    if (this.computesOn('edge', o.cut) && p.edge > 0 && Number.isFinite(edgeObs)) {
      arm.edge = (1 - a) * arm.edge + a * bounded(edgeObs / p.edge, arm.edge);
    }
    if (this.computesOn('cloud', o.cut) && p.cloud > 0 && Number.isFinite(cloudObs)) {
      arm.cloud = (1 - a) * arm.cloud + a * bounded(cloudObs / p.cloud, arm.cloud);
    }
  }
}

/** One observation's ratio, within a factor 2 of the arm's correction so far (so one request moves it by at most `alpha`), and within MAX_RATIO of the shared estimate. */
const bounded = (r: number, k: number) => Math.min(MAX_RATIO, Math.max(1 / MAX_RATIO, Math.min(2 * k, Math.max(k / 2, r))));
