import { NO_CONDITION, type Condition } from '../../conditions/condition.js';
import { UserError } from '../../errors.js';
import { frameWireBytes, predictCondition, stressKey, wireMs, type CostModel } from '../../analysis/cost-model.js';
import { isImageCodec } from '../../analysis/arms.js';

/**
 * Partitioning policies of an adaptive run: each chooses the arm of the next request -- a point, or
 * a (point, codec) pair `POINT@CODEC` when the run has codecs (the cost model's arm labels). Pure
 * (no I/O): the run loop tells them what it observed and, for the oracle, which condition is in force.
 */

/** What a policy knows of the link and the ends when it chooses (the model and adaptive policies' estimates). */
export interface Estimate {
  /** Mbit/s; null = no estimate yet */
  rate: number | null;
  /** observed / profiled compute */
  edgeSlowdown: number;
  cloudSlowdown: number;
}

export interface Observation {
  /** the arm label */
  cut: string;
  edge_ms: number;
  transfer_ms: number;
  cloud_ms: number;
  /** a link probe's (no edge compute), not a request's */
  probe?: boolean;
  /** the INFER frame's bytes as sent (an encoded crossing's size depends on its input); absent: the arm's profiled size */
  bytes?: number;
  /** the edge encoding the crossing and the cloud decoding it (absent: 0) */
  encode_ms?: number;
  decode_ms?: number;
  /** end to end as measured (absent: the parts' sum) */
  total_ms?: number;
}

/** Why the latest choice was made: the predicted total of the arm chosen, and whether it was chosen to learn its cost. */
export interface Decision {
  pred_ms: number;
  explore: boolean;
}

export interface Policy {
  /** as given in --policies, e.g. static:conv2, model or adaptive */
  readonly name: string;
  /** the point of the next request; `inForce` is the condition the trace applies now (only the oracle may look) */
  choose(inForce: Condition): string;
  /** the current estimates (model, adaptive), for the timeline */
  estimate(): Estimate | null;
  observe(o: Observation): void;
  /** the model policy asks for a link probe while it runs edge-only: the point to probe, or null */
  probe?(nowMs: number): string | null;
  /** the latest choice's prediction and whether it explored (model, adaptive) */
  decision?(): Decision;
}

export class StaticPolicy implements Policy {
  readonly name: string;
  constructor(readonly cut: string) {
    this.name = `static:${cut}`;
  }
  choose(): string {
    return this.cut;
  }
  estimate(): null {
    return null;
  }
  observe(): void {}
}

/** The lowest predicted total for a condition (ties: the earlier point). */
export function bestFor(m: CostModel, c: Condition): string {
  const rows = predictCondition(m, c);
  return rows.reduce((a, b) => (b.total_ms < a.total_ms ? b : a)).cut;
}

/** Knows the condition in force from the trace and picks with the same model: the bound of model-based adaptation. */
export class OraclePolicy implements Policy {
  readonly name = 'oracle';
  constructor(private readonly model: CostModel) {}
  choose(inForce: Condition): string {
    return bestFor(this.model, oracleCondition(this.model, inForce));
  }
  estimate(): null {
    return null;
  }
  observe(): void {}
}

/** The condition in force as the model can predict it: stress levels that were not profiled are taken as the reference profile's. */
export function oracleCondition(m: CostModel, c: Condition): Condition {
  return m.stress.has(stressKey(c)) ? c : { ...c, ...referenceStress(m).stress };
}

/** The profile's reference stress level: the lowest (the unstressed one when it was profiled). */
export function referenceStress(m: CostModel): NonNullable<ReturnType<CostModel['stress']['get']>> {
  const ref = [...m.stress.values()].sort((a, b) => stressKey(a.stress).localeCompare(stressKey(b.stress)))[0];
  if (!ref) throw new UserError('the profile has no measured point: nothing to adapt with');
  return ref;
}

export interface ModelOptions {
  /** weight of the newest observation in the moving estimates (0..1] */
  alpha: number;
  /** switch only when the new point is predicted this much faster than the current one */
  hysteresis: number;
  /** stay at least this many requests on a point before switching again */
  minDwell: number;
  /** while edge-only (no transfer to learn from), probe the link at most this often */
  probeEveryMs: number;
  /** ...and only as often as keeps the probes' time under this share of the stream's (a probe is a real transfer: 200 KB at 10 Mbit/s is 160 ms) */
  probeShare: number;
}

/** An end's time at a point updates its slowdown when its profiled compute there is at least this share of its largest. */
export const MIN_COMPUTE_SHARE = 0.1;

export const MODEL_DEFAULTS: ModelOptions = { alpha: 0.5, hysteresis: 0.1, minDwell: 3, probeEveryMs: 1000, probeShare: 0.1 };

/**
 * The point with the lowest predicted total under the current estimates: link rate from recent
 * transfers (each transfer's time minus the point's profiled fixed cost gives the wire time of its
 * known bytes), edge and cloud slowdown from observed against profiled compute (so stress is seen
 * too). Estimates are exponentially weighted; it switches only for a predicted gain of at least
 * `hysteresis` and after `minDwell` requests on a point, so noise does not make it flap.
 */
export class ModelPolicy implements Policy {
  readonly name = 'model';
  private rate: number | null = null;
  private edgeSlow = 1;
  private cloudSlow = 1;
  private current: string | null = null;
  private dwell = 0;
  private lastLinkMs = -Infinity;
  /** what the latest probe cost (transfer and cloud), which spaces the next */
  private probeCostMs = 0;
  /** time of the latest probe() call: the run loop asks before every request */
  private nowMs = 0;
  private readonly stress: NonNullable<ReturnType<CostModel['stress']['get']>>;
  /** the least profiled compute (ms) an end must do at a point for its time there to update that end's slowdown */
  private readonly edgeMin: number;
  private readonly cloudMin: number;

  constructor(
    private readonly model: CostModel,
    private readonly o: ModelOptions = MODEL_DEFAULTS,
    initialRate: number | null = null,
  ) {
    this.stress = referenceStress(model);
    this.rate = initialRate;
    this.edgeMin = MIN_COMPUTE_SHARE * Math.max(...this.stress.edge.values());
    this.cloudMin = MIN_COMPUTE_SHARE * Math.max(...this.stress.cloud.values());
  }

  estimate(): Estimate {
    return { rate: this.rate, edgeSlowdown: this.edgeSlow, cloudSlowdown: this.cloudSlow };
  }

  decision(): Decision {
    return { pred_ms: this.current === null ? NaN : this.predicted(this.current), explore: false };
  }

  /** Predicted total of an arm under the current estimates. */
  predicted(cut: string): number {
    const p = this.parts(cut);
    return p.edge + p.cloud + p.fixed + p.wire;
  }

  /**
   * An arm's predicted parts under the current estimates: each end's work (its compute, and the
   * encoding on the edge's CPU or the decoding on the cloud's, so they scale with the slowdown of
   * their end, as compute does), the transfer's fixed cost and its wire time at the estimated rate.
   */
  parts(cut: string): ArmParts {
    const edge = (this.stress.edge.get(cut)! + (this.stress.encode.get(cut) ?? 0)) * this.edgeSlow;
    if (this.model.local.has(cut)) return { edge, cloud: 0, fixed: 0, wire: 0 };
    const cloud = (this.stress.cloud.get(cut)! + (this.stress.decode.get(cut) ?? 0)) * this.cloudSlow;
    const wire = this.rate === null ? 0 : this.model.beta * wireMs(this.model.wire.get(cut)!, this.rate);
    return { edge, cloud, fixed: this.stress.fixed.get(cut)!, wire };
  }

  choose(): string {
    const cuts = [...this.stress.edge.keys()];
    let best = cuts[0]!;
    for (const c of cuts) if (this.predicted(c) < this.predicted(best)) best = c;
    if (this.current === null) {
      this.current = best;
      this.dwell = 0;
    } else if (best !== this.current && this.dwell >= this.o.minDwell && this.predicted(best) * (1 + this.o.hysteresis) <= this.predicted(this.current)) {
      this.current = best;
      this.dwell = 0;
    }
    this.dwell++;
    return this.current;
  }

  observe(o: Observation): void {
    if (o.probe) this.probeCostMs = o.transfer_ms + o.cloud_ms;
    const a = this.o.alpha;
    const ewma = (old: number, v: number) => (1 - a) * old + a * v;
    const edgeRef = this.stress.edge.get(o.cut);
    // Only where the end really computes: the edge's part of cloud-only is a no-op of ~0.3 ms whose
    // jitter read as a 3x faster edge, and the policy flapped to edge-only and back (36 switches in
    // 170 requests on a 20x slower edge). A camera-frame arm's edge (~0: the cloud preprocesses) is
    // left out the same way.
    if (edgeRef && edgeRef >= this.edgeMin && Number.isFinite(o.edge_ms)) this.edgeSlow = ewma(this.edgeSlow, Math.max(0.2, o.edge_ms / edgeRef));
    if (this.model.local.has(o.cut)) return;
    const cloudRef = this.stress.cloud.get(o.cut);
    if (cloudRef && cloudRef >= this.cloudMin) this.cloudSlow = ewma(this.cloudSlow, Math.max(0.2, o.cloud_ms / cloudRef));
    this.lastLinkMs = this.nowMs;
    // Wire time = transfer - fixed; at least 5 % of the transfer, so a fast link reads as fast, not infinite.
    const wire = Math.max(o.transfer_ms - this.stress.fixed.get(o.cut)!, 0.05 * o.transfer_ms, 0.01);
    const bits = (o.bytes ? frameWireBytes(o.bytes) : this.model.wire.get(o.cut)!) * 8;
    const observed = (this.model.beta * bits) / (wire * 1000);
    // Averaged in log space: a rate that changes 20-fold is followed in a few observations either way.
    this.rate = this.rate === null ? observed : Math.exp(ewma(Math.log(this.rate), Math.log(observed)));
  }

  probe(nowMs: number): string | null {
    this.nowMs = nowMs;
    if (this.current === null || !this.model.local.has(this.current)) {
      this.lastLinkMs = nowMs;
      return null;
    }
    if (nowMs - this.lastLinkMs < Math.max(this.o.probeEveryMs, this.probeCostMs / this.o.probeShare)) return null;
    this.lastLinkMs = nowMs;
    return probePoint(this.model);
  }
}

/** An arm's predicted total in parts: edge = its edge compute and encoding, cloud = its decoding and cloud compute. */
export interface ArmParts {
  edge: number;
  cloud: number;
  fixed: number;
  wire: number;
}

/**
 * The probe: the non-local point with the smallest tensor of at least 16 KB (enough bytes to time),
 * else the largest. An f32 arm, so that a probe (zeros, no edge compute) is a plain tensor of known
 * size; only a run without f32 arms probes with a tensor codec (never a camera-frame codec: no frame).
 */
export function probePoint(m: CostModel): string {
  const tensor = m.cuts.filter((c) => !m.local.has(c.cut) && c.bytes !== undefined && (c.codec === undefined || !isImageCodec(c.codec)));
  const f32 = tensor.filter((c) => c.codec === undefined);
  const sent = f32.length ? f32 : tensor;
  const big = sent.filter((c) => c.bytes! >= 16 * 1024).sort((a, b) => a.bytes! - b.bytes!);
  return (big[0] ?? sent.sort((a, b) => b.bytes! - a.bytes!)[0])!.cut;
}

/**
 * The arms static:auto stands for: cloud-only (the input point's f32 arm when there is one),
 * edge-only, the best arm at the profile's baseline, the best at the trace's mean rate.
 */
export function autoStaticCuts(m: CostModel, meanRate: number | null, fastestProfiled: number | null): string[] {
  const ref = referenceStress(m);
  const at = (net: number | null) => bestFor(m, { ...NO_CONDITION, ...ref.stress, net });
  const first = m.cuts[0]!;
  const cloudOnly = m.cuts.find((c) => c.index === first.index && c.codec === undefined) ?? first;
  const cuts = [cloudOnly.cut, m.cuts.at(-1)!.cut, at(fastestProfiled), at(meanRate)];
  return [...new Set(cuts)];
}

/** The policies --policies names besides the static ones. */
export const POLICY_NAMES = ['adaptive', 'model', 'oracle'] as const;
export const DEFAULT_POLICIES = 'adaptive,model,oracle,static:auto';

/**
 * --policies: static:<arm> (a point, or POINT@CODEC), static:auto, static:all (every arm the
 * policies may choose, in the model's order: `cuts`), adaptive, model, oracle, comma separated.
 * `known`: the refusal of a static:<arm> not among `cuts` (after `--policies: `), by default naming every one.
 */
export function parsePolicies(
  spec: string,
  cuts: readonly string[],
  auto: () => string[],
  known: (arm: string) => string = (arm) => `${arm} is not a profiled partition point or (point, codec) arm the policies may choose (${cuts.join(', ')})`,
): string[] {
  const out: string[] = [];
  for (const raw of spec.split(',').map((s) => s.trim())) {
    if (raw === '') throw new UserError(`--policies: '${spec}' has an empty entry; e.g. --policies ${DEFAULT_POLICIES}`);
    if ((POLICY_NAMES as readonly string[]).includes(raw)) out.push(raw);
    else if (raw === 'static:auto') out.push(...auto().map((c) => `static:${c}`));
    else if (raw === 'static:all') out.push(...cuts.map((c) => `static:${c}`));
    else if (raw.startsWith('static:')) {
      const cut = raw.slice(7);
      if (!cuts.includes(cut)) throw new UserError(`--policies: ${known(cut)}`);
      out.push(raw);
    } else throw new UserError(`--policies: unknown policy '${raw}'; use static:<cut> (or static:<cut>@<codec>), static:auto, static:all, adaptive, model or oracle`);
  }
  return [...new Set(out)];
}

