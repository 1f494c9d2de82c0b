import { conditionKey, type Condition } from '../../conditions/condition.js';
import { conditionAt, replayedLinks, type Schedule, type TraceLink } from '../../conditions/trace.js';
import { epochMs, type AppliedStep } from '../../conditions/trace-replay.js';
import { inferenceThreads } from '../../engine/backend.js';
import { createSplitRunner, type SplitRunner } from '../../engine/split-runner.js';
import { configLabel, pureConfig, type TierConfig } from '../../model/tier-configs.js';
import { UserError } from '../../errors.js';
import { ResultsWriter } from '../../results/log-writer.js';
import { LinkFailure, type CloudLink } from '../cloud-link.js';
import type { SampleInput } from '../measure.js';
import { measureTiers, type TierSample } from '../measure-tiers.js';
import { calibrationSetup } from '../edge-slowdown.js';
import { freshResultsPath, runMetadata, selectedBackend } from '../run-edge.js';
import { prepareInputs } from '../run-inputs.js';
import { calibrateTiers, connectRelay, tiersMeta, type TierPlan, type TierRunOptions } from '../run-tiers.js';
import { formatDuration } from '../progress.js';
import { CellRecorder } from '../samples.js';
import { loadResultFiles } from '../../analysis/load-results.js';
import { tierPredictor } from '../../analysis/tier-predict.js';
import { parsePolicies } from './policy.js';
import { ReplayHandle, slotsMeta } from './run-adaptive.js';
import { playReplay, slotPlan, type Slot } from './slots.js';

/**
 * dnn-edge lab <net> --tiers 3 --trace: the trace replayed on both links of the three-tier lab (the
 * device link from its `dnet`, the edge->cloud link from its `net`, delay, jitter and loss, each by
 * a timer process of its own on its own interface), while static configurations (x, y) take turns
 * as policies (`static:x|y`, `static:auto` = the pure ones, `static:all` = every configuration of
 * the run), interleaved in slots as the two-tier replay does, and `oracle`: per request the
 * configuration the additive model of a three-tier sweep (--profile, src/analysis/tier-predict.ts)
 * predicts best under the condition in force. Each request line carries both cuts and every tier's
 * part (and with an oracle its choice), so the report's hindsight says per window which (x, y) was
 * best. The learning policies (adaptive, model) are refused before this runs.
 */

export interface TierTraceOptions extends TierRunOptions {
  schedule: Schedule;
  /** how the schedule was made, for the metadata (`link`: the link a one-rate trace shapes) */
  replay: { file: string; scale: number; loop: boolean; duration_ms: number; link?: TraceLink };
  /** --policies and --profile as given (the metadata's) */
  policies: string;
  /** --profile: three-tier sweeps of this network the oracle is fitted on (with `oracle` among the policies) */
  profile: string[];
  /** the configurations, the policies and the oracle, checked by tierTracePlan before anything started */
  prepared: TierTracePlan;
  slotMs: number | null;
  /** the slots' orders' seed; the same drew the configurations under --max-configs */
  slotSeed: number;
  /** the lab's two links: where each is shaped */
  links: Record<TraceLink, { iface: string; netns?: string }>;
  out: string;
}

/** One request of a three-tier replay (a `#dnn-request` line), ms. */
export interface TierRequestRecord {
  policy: string;
  /** trace time of the request's start */
  t_ms: number;
  condition: string;
  /** the edge->cloud link's rate in force, and the device link's (null: unshaped) */
  rate_mbit: number | null;
  device_rate_mbit: number | null;
  /** x and y of the configuration */
  cut: string;
  cut2: string;
  /** the oracle's configuration (x|y) under the condition in force; only when the run has an oracle */
  oracle_cut?: string;
  switched: boolean;
  device_ms: number;
  device_transfer_ms: number;
  edge_ms: number;
  transfer_ms: number;
  cloud_ms: number;
  total_ms: number;
  slot?: number;
  slot_pos?: number;
}

/** The configurations static:auto stands for in three tiers: the pure ones (one tier does everything). */
function autoConfigs(configs: readonly TierConfig[]): string[] {
  return configs.filter((c) => pureConfig(c) !== undefined).map(configLabel);
}

/** A policy of a three-tier replay: a static configuration, or the oracle (config null: it chooses per request). */
export interface TierPolicy {
  name: string;
  config: TierConfig | null;
}

/** The policies' configurations, checked against the run's (one-line UserError for a name not among them): before anything starts. */
export function tierPolicies(spec: string, configs: readonly TierConfig[]): TierPolicy[] {
  const byLabel = new Map(configs.map((c) => [configLabel(c), c]));
  const labels = [...byLabel.keys()];
  // a deep network has thousands of configurations: name a few, not all
  const known = (label: string) =>
    `${label} is not a configuration x|y of this run (${byLabel.size} from the --cuts/--configs points and the input and output, e.g. ${labels.slice(0, 4).join(', ')}${byLabel.size > 4 ? ', ...' : ''}); \`dnn-edge ... --tiers 3 --dry-run\` counts them, \`dnn-cut <network>\` lists the points`;
  return parsePolicies(spec, labels, () => autoConfigs(configs), known).map((name) => {
    if (name === 'oracle') return { name, config: null };
    const config = name.startsWith('static:') ? byLabel.get(name.slice('static:'.length)) : undefined;
    if (!config) throw new UserError(`--policies: ${name} is not a static configuration; --tiers 3 --trace replays static:x|y, static:auto or static:all`);
    return { name, config };
  });
}

/** Above this many statics the dry run suggests narrowing the configurations. */
const MANY_STATICS = 24;

/** --dry-run of a three-tier replay: the links, the statics, the slots and the replay's length (requests back to back: wall time is the trace's length per configuration, plus calibration). */
export function formatTierTraceDryRun(o: { schedule: Schedule; slotMs: number | null }, policies: readonly TierPolicy[], configs: number): string {
  const statics = policies.filter((p) => p.config !== null).length;
  const oracle = statics < policies.length ? ' and the oracle' : '';
  const links = replayedLinks(o.schedule).map((l) => (l.link === 'device' ? 'the device link (dnet)' : 'the edge->cloud link (net, delay, jitter, loss)'));
  const slots = o.slotMs === null ? 'each configuration replays the whole trace in turn' : `interleaved in ${Math.ceil(o.schedule.lengthMs / o.slotMs)} slots of ${o.slotMs / 1000} s`;
  return [
    `three tiers under a trace: ${o.schedule.trace} (${o.schedule.steps.length} steps, ${(o.schedule.lengthMs / 1000).toFixed(1)} s) on ${links.join(' and ')}`,
    `${statics} of the run's ${configs} configurations (x, y) as static policies${oracle}, ${slots}: ${formatDuration((policies.length * o.schedule.lengthMs) / 1000)} of requests back to back, after the calibration`,
    // every static replays the whole trace: a deep network's x <= y pairs make that days
    ...(statics > MANY_STATICS ? [`that is many configurations: narrow them with --configs 'x|y,...', --cuts, --max-configs N or --policies static:auto`] : []),
    '',
  ].join('\n');
}

/**
 * The oracle: the run's configurations predicted by the additive model of the --profile files'
 * three-tier sweep of this network, the best (lowest predicted total) under the condition given.
 * Checked at every step of the schedule before anything starts (one-line UserErrors: no such sweep,
 * none of the run's configurations in it, a condition outside the model).
 */
export function tierOracle(files: readonly string[], network: string, configs: readonly TierConfig[], schedule: Schedule): (c: Condition) => TierConfig {
  const data = loadResultFiles([...files]).networks.find((n) => n.network === network && n.tiers);
  if (!data) throw new UserError(`--profile: ${files.join(', ')} hold${files.length === 1 ? 's' : ''} no three-tier sweep of ${network} (dnn-edge lab ${network} --tiers 3 ... writes one)`);
  const predict = tierPredictor(data, '--profile (the oracle)');
  const byLabel = new Map(configs.map((c) => [configLabel(c), c]));
  const choose = (c: Condition): TierConfig => {
    let best: { config: TierConfig; ms: number } | null = null;
    for (const [label, ms] of predict(c)) {
      const config = byLabel.get(label);
      if (config && (best === null || ms < best.ms)) best = { config, ms };
    }
    if (!best) throw new UserError(`--profile: none of this run's ${configs.length} configurations is in the three-tier sweep of ${network} given (e.g. ${[...byLabel.keys()].slice(0, 3).join(', ')}): measure them there, or choose them with --cuts/--configs`);
    return best.config;
  };
  // every step checked now; a request looks its step's choice up (conditionAt hands out the step's
  // own condition), not the model's prediction of every configuration again
  const chosen = new Map(schedule.steps.map((step) => [step.condition, choose(step.condition)]));
  return (c) => chosen.get(c) ?? choose(c);
}

/** What a three-tier replay plays: its configurations, its policies among them and the oracle (null: none among the policies). */
export interface TierTracePlan {
  plan: TierPlan;
  policies: TierPolicy[];
  oracle: ((c: Condition) => TierConfig) | null;
}

/** The policies of --policies and, with `oracle` among them, the oracle fitted on --profile: one-line UserErrors before anything starts. */
export function tierTracePlan(plan: TierPlan, o: { policies: string; profile: readonly string[]; schedule: Schedule }): TierTracePlan {
  const policies = tierPolicies(o.policies, plan.configs);
  const oracle = policies.some((p) => p.config === null) ? tierOracle(o.profile, plan.network.id, plan.configs, o.schedule) : null;
  return { plan, policies, oracle };
}

interface PolicyTurns {
  name: string;
  /** the configuration of each request: a static's own, the oracle's choice under the condition in force */
  choose: (c: Condition) => TierConfig;
  /** the configuration of the latest request (null before the first) */
  last: TierConfig | null;
  recorder: CellRecorder;
  requests: TierRequestRecord[];
  written: number;
  applied: (AppliedStep & { link: TraceLink })[];
  n: number;
  failures: number;
  startMs: number;
  endMs: number;
}

export async function runTierTrace(o: TierTraceOptions): Promise<{ file: string }> {
  const backend = await selectedBackend(o);
  const { plan, policies, oracle } = o.prepared;
  const links = replayedLinks(o.schedule);
  const { network } = plan;
  const inputs = await prepareInputs(o, network);
  const { link, server } = await connectRelay(o, backend, network, inputs.preprocess);
  const runner = createSplitRunner(network);
  const replays = links.map(({ link: which, schedule }) => ({ which, handle: new ReplayHandle({ ...o.links[which], schedule, edge: o.edge }) }));
  let writer: ResultsWriter | undefined;
  try {
    const slow = await calibrateTiers(o, runner, link, network);
    const file = freshResultsPath(o.out, `${network.id}-adaptive`, new Date());
    const { link: traceLink, ...replay } = o.replay;
    const adaptive = { ...replay, policies: o.policies, interval_ms: null, profile: o.profile, ...slotsMeta(o.slotMs, o.slotSeed), ...(traceLink ? { trace_link: traceLink } : {}) };
    writer = await ResultsWriter.create(file, {
      ...runMetadata(o, network, backend, server, { ...o.setup, ...calibrationSetup(o.setup, slow.device), iface: o.links.device.iface, edge_stressor: 'none', adaptive }, undefined, await inferenceThreads(backend.name)),
      // the configurations the policies could be: the hindsight best is an upper bound only over all of them
      tiers: tiersMeta(o, plan.configs.length),
    });
    o.log(`results: ${file}`);
    const statics = policies.filter((p) => p.config !== null).length;
    o.log(`replaying ${o.schedule.trace} (${(o.schedule.lengthMs / 1000).toFixed(1)} s) on the ${links.map((l) => (l.link === 'device' ? 'device link' : 'edge->cloud link')).join(' and the ')} under ${statics} static configurations${oracle ? ' and the oracle' : ''}`);
    await playTurns(o, policies, { runner, link, inputs: inputs.samples, replays, writer, oracle });
    return { file };
  } finally {
    await runner.dispose();
    for (const r of replays) await r.handle.close().catch((e: Error) => o.log(`restoring the ${r.which} link: ${e.message}`));
    await writer?.close();
    await link.close().catch(() => undefined);
  }
}

interface TurnDeps {
  runner: SplitRunner;
  link: CloudLink;
  inputs: readonly SampleInput[];
  replays: { which: TraceLink; handle: ReplayHandle }[];
  writer: ResultsWriter;
  /** the oracle's choice under a condition; null without an oracle in the run */
  oracle: ((c: Condition) => TierConfig) | null;
}

/** The slots (their orders seeded by `slotSeed`, as the metadata records it), each policy's turn in each, and each policy's results once its last slot is played. */
async function playTurns(o: TierTraceOptions, policies: TierPolicy[], d: TurnDeps): Promise<void> {
  const plan = slotPlan(o.schedule.lengthMs, o.slotMs, policies.map((p) => p.name), o.slotSeed);
  if (plan.length > 1) o.log(`interleaved replay: ${plan.length} slots of ${((o.slotMs ?? 0) / 1000).toFixed(1)} s, in each every configuration in turn (order shuffled per slot, seed ${o.slotSeed})`);
  const chooser = (p: TierPolicy) => (p.config === null ? d.oracle! : () => p.config!);
  const turns = new Map(policies.map((p) => [p.name, { name: p.name, choose: chooser(p), last: null, recorder: new CellRecorder(), requests: [], written: 0, applied: [], n: 0, failures: 0, startMs: NaN, endMs: NaN } satisfies PolicyTurns as PolicyTurns]));
  const machine = { last: null as string | null };
  await playReplay(
    plan,
    turns,
    o.log,
    (run, slot, pos) => playTurn(run, slot, pos, o, d, machine),
    (requests) => d.writer.appendRequests(requests),
    async (run) => {
      const mean = run.requests.reduce((a, r) => a + r.total_ms, 0) / Math.max(1, run.requests.length);
      o.log(`policy ${run.name}: ${run.requests.length} requests, mean ${mean.toFixed(1)} ms; ${run.applied.length} trace steps applied`);
      try {
        await d.writer.appendPolicy(run.name, o.schedule.trace, run.recorder.histograms, { requests: run.requests.slice(run.written), applied: run.applied }, run.startMs, run.endMs);
      } finally {
        run.recorder.destroy();
      }
    },
  );
}

/**
 * One configuration's part of one slot: both links' pieces of the trace started together (the
 * device link's clock last, a fraction of a ms after the edge link's: the requests' clock), one
 * untimed request first when the machine last computed another configuration (interleaved: the
 * sessions another policy left cold), then requests back to back until the slot's end.
 */
async function playTurn(run: PolicyTurns, slot: Slot, pos: number | null, o: TierTraceOptions, d: TurnDeps, machine: { last: string | null }): Promise<void> {
  const window = { fromMs: slot.fromMs, toMs: slot.toMs };
  const ready = async () => {
    if (machine.last !== null && machine.last !== run.name && run.last) await sample(run, run.last, d, { count: false });
    machine.last = run.name;
  };
  // each replay's ready starts the next one's window: the clocks start back to back, the requests' (the outermost) last
  const startAll = (i: number, onReady: () => Promise<void>): Promise<number> => {
    const r = d.replays[i];
    if (!r) return onReady().then(() => epochMs());
    return r.handle.start(
      (a) => {
        // the trace's whole condition (both links), not the link's own schedule's (the device link's rate is its `net` there)
        const step = o.schedule.steps[a.step];
        run.applied.push({ ...a, ...(step ? { condition: conditionKey(step.condition) } : {}), link: r.which });
        if (a.error) o.log(`trace step ${a.step} (${r.which} link, ${a.condition}): ${a.error}`);
      },
      window,
      async () => void (await startAll(i + 1, onReady)),
    );
  };
  const start = await startAll(0, ready);
  if (Number.isNaN(run.startMs)) run.startMs = start;
  if (pos === null) o.log(`policy ${run.name}: replaying ${o.schedule.trace} for ${((slot.toMs - slot.fromMs) / 1000).toFixed(1)} s`);
  try {
    for (;;) {
      const t = epochMs() - start + slot.fromMs;
      if (t >= slot.toMs) break;
      const inForce = conditionAt(o.schedule, t);
      const config = run.choose(inForce);
      const s = await sample(run, config, d, { count: true });
      if (!s) continue;
      run.recorder.record({ edge: s.edge, transfer: s.transfer, cloud: s.cloud, total: s.total, encode: 0, decode: 0, bytes: 0 });
      const r = requestRecord(run, { t, inForce, config, switched: run.last !== null && run.last !== config, oracle: d.oracle?.(inForce) }, s);
      run.last = config;
      run.requests.push(pos === null ? r : { ...r, slot: slot.index, slot_pos: pos });
      // let the replays' step reports through between back-to-back requests (a device-only request never waits for I/O)
      await new Promise((resolve) => setImmediate(resolve));
    }
  } finally {
    for (const r of d.replays) await r.handle.pause();
  }
  run.endMs = epochMs();
}

/** One request of the policy's configuration; null after a link failure (reconnected; more than 10 in a row end the run). */
async function sample(run: PolicyTurns, config: TierConfig, d: TurnDeps, o: { count: boolean }): Promise<TierSample | null> {
  try {
    const s = await measureTiers(d.runner, d.link, config, d.inputs[run.n % d.inputs.length]!);
    run.failures = 0;
    return s;
  } catch (e) {
    if (!(e instanceof LinkFailure) || ++run.failures > 10) throw e;
    await d.link.reconnect();
    return null;
  } finally {
    if (o.count) run.n++;
  }
}

function requestRecord(run: PolicyTurns, r: { t: number; inForce: Condition; config: TierConfig; switched: boolean; oracle: TierConfig | undefined }, s: TierSample): TierRequestRecord {
  const ms = (us: number) => round(Math.max(0, us) / 1000);
  return {
    policy: run.name,
    t_ms: round(r.t),
    condition: conditionKey(r.inForce),
    rate_mbit: r.inForce.net,
    device_rate_mbit: r.inForce.dnet,
    cut: r.config.x.layer,
    cut2: r.config.y.layer,
    ...(r.oracle ? { oracle_cut: configLabel(r.oracle) } : {}),
    switched: r.switched,
    device_ms: ms(s.device),
    device_transfer_ms: ms(s.device_transfer),
    edge_ms: ms(s.edge),
    transfer_ms: ms(s.transfer),
    cloud_ms: ms(s.cloud),
    total_ms: ms(s.total),
  };
}

const round = (v: number) => Math.round(v * 1000) / 1000;
