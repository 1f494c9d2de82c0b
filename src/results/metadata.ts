import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { DESIGNS } from '../conditions/grid.js';
import { type Checker, FormatError, checker } from '../formats/check.js';
import { PlanRecordSchema, RaceMetaSchema, ShardRecordSchema, shardPlanProblem } from './plan.js';

/**
 * Run metadata: the first line of every results file is `#dnn-meta ` followed by this object as
 * one line of JSON. HdrHistogram's own log readers skip lines that start with '#'.
 *
 * The schemas below are its one definition: the types derive from them, every read checks a file
 * against them, and docs/results-format.md documents every field (a test holds the two together).
 * Objects may carry fields a schema does not name (a newer release of the same format adds some).
 */
export const META_PREFIX = '#dnn-meta ';

/** The results format this release writes; files without `format` are format 1. */
export const RESULTS_FORMAT = 1;

const opt = <S extends TSchema>(s: S) => Type.Optional(s);
const orNull = <S extends TSchema>(s: S, description: string) => Type.Union([s, Type.Null()], { description });

export const CutInfoSchema = Type.Object({
  index: Type.Integer({ minimum: -1, description: "position of the producing layer in the model's layer list (ONNX: of the producing node, -1 for the graph input)" }),
  layer: Type.String({ description: 'name of that layer' }),
  shape: Type.Array(Type.Number(), { description: 'shape of the crossing tensor, batch excluded' }),
  bytes: Type.Number({ minimum: 0, description: 'float32 bytes of the crossing tensor for batch 1' }),
});
export type CutInfo = Static<typeof CutInfoSchema>;

const endFields = {
  host: Type.String({ description: 'host name (the cloud: its name, then the address the edge used)' }),
  backend: Type.String({ description: 'inference backend: onnx, tensorflow, wasm or cpu' }),
  versions: Type.Record(Type.String(), Type.String(), { description: 'versions of the libraries the backend runs on (and, for the cloud, its stressor and thread count)' }),
  threads: opt(orNull(Type.Integer({ minimum: 0 }), 'inference threads when the backend says (wasm pool; cpu = 1)')),
  limits: opt(Type.Unknown({ description: 'resource caps of this end; this release does not write it (see conditions.devices); the report compares it as a whole when it groups testbeds' })),
};
const hostFields = {
  cpu: Type.String({ description: 'CPU model' }),
  cores: Type.Integer({ minimum: 0, description: 'logical CPUs of the host' }),
  mem_bytes: Type.Number({ minimum: 0, description: 'memory of the host, bytes' }),
  node: Type.String({ description: 'Node.js version' }),
};

export const EdgeEndSchema = Type.Object({ ...endFields, ...hostFields }, { description: 'the machine that ran dnn-edge' });
/** The cloud's host facts come from its WELCOME; older clouds did not send them. */
export const CloudEndSchema = Type.Object(
  { ...endFields, cpu: opt(hostFields.cpu), cores: opt(hostFields.cores), mem_bytes: opt(hostFields.mem_bytes), node: opt(hostFields.node) },
  { description: 'the machine that ran dnn-cloud, as it described itself' },
);

export const ScheduleMetaSchema = Type.Object(
  {
    seed: Type.Integer({ description: 'seed of the shuffles (points per cycle, conditions per block)' }),
    order: Type.Union([Type.Literal('randomized'), Type.Literal('sequential')], { description: 'conditions within one network rate: shuffled or as listed' }),
    reference_every: Type.Integer({ minimum: 0, description: 'the reference cell is measured again every this many conditions (0 = never)' }),
    interleaved: Type.Boolean({ description: 'points cycled rep by rep within a condition' }),
  },
  { description: 'how the run was ordered: replaying it needs the seed' },
);
export type ScheduleMeta = Static<typeof ScheduleMetaSchema>;

export const DeviceMetaSchema = Type.Object(
  {
    cpuset: opt(orNull(Type.String(), 'CPUs the end may run on, e.g. 0 or 1-3 (--edge-cpuset / --cloud-cpuset)')),
    cpus: opt(orNull(Type.Number({ minimum: 0 }), 'CPU time in cores (--edge-cpus / --cloud-cpus, or what --edge-slowdown calibrated)')),
    memory_bytes: opt(orNull(Type.Number({ minimum: 0 }), 'memory limit, bytes (--edge-memory / --cloud-memory)')),
    slowdown: opt(
      Type.Object(
        {
          target: Type.Number({ description: 'the ratio asked for (--edge-slowdown X)' }),
          reached: Type.Number({ description: 'the ratio reached: edge full model / cloud full model' }),
          edge_ms: Type.Number({ description: 'full model on the calibrated edge, ms' }),
          cloud_ms: Type.Number({ description: 'full model on the cloud, ms' }),
        },
        { description: '--edge-slowdown: the calibration of the edge device' },
      ),
    ),
  },
  { description: 'resource limits of one end as a device (null: none given)' },
);

export const AdaptiveMetaSchema = Type.Object(
  {
    file: Type.String({ description: 'the trace file (--trace)' }),
    scale: Type.Number({ exclusiveMinimum: 0, description: "multiplier of the trace's rates (--trace-scale)" }),
    loop: Type.Boolean({ description: 'the trace repeats until the duration (--trace-loop)' }),
    duration_ms: Type.Number({ minimum: 0, description: 'length of the replay, ms' }),
    policies: Type.String({ description: 'the policies run on the trace, as given to --policies (comma-separated)' }),
    interval_ms: orNull(Type.Number({ minimum: 0 }), 'one request every this many ms, or null: back to back (--interval)'),
    profile: Type.Array(Type.String(), { description: 'results files the cost model was fitted on (--profile); empty: a profile sweep ran first' }),
    max_agreement_loss: opt(Type.Number({ minimum: 0, maximum: 100, description: 'runs with codecs: the policies chose only among arms within this many percentage points of top-1 agreement lost (--max-agreement-loss)' })),
    scenario: opt(Type.String({ description: 'a camera under the trace (--scenario stream:FPS): its label; absent: requests one at a time' })),
    in_flight: opt(Type.Integer({ minimum: 1, description: 'with a camera: the cap on frames in flight (--in-flight)' })),
    policy_slot_s: opt(orNull(Type.Number({ exclusiveMinimum: 0 }), 'the interleaved replay (--policy-slot): seconds of trace time per slot, in each of which every policy replayed it in turn; null: each policy replayed the whole trace in turn (absent: runs before the option, sequential)')),
    policy_slot_seed: opt(Type.Integer({ description: "with slots: the seed of the slots' orders (each #dnn-request line has its slot and slot_pos)" })),
    trace_link: opt(Type.Union([Type.Literal('edge'), Type.Literal('device')], { description: "three tiers (--tiers 3) with a one-rate trace (two-column, Mahimahi): the link it shaped (--trace-link): edge (edge tier -> cloud) or device (device -> edge tier); absent: two tiers, or a tag trace (net= and dnet= name the links)" })),
  },
  { description: 'an adaptive run (dnn-edge --trace): what was replayed and how' },
);

export const TiersMetaSchema = Type.Object(
  {
    count: Type.Literal(3, { description: 'tiers: device (this dnn-edge), edge (dnn-relay), cloud (dnn-cloud)' }),
    device_slowdown: opt(Type.Number({ minimum: 1, description: 'lab: the device calibrated this many times slower than the cloud on the full model (--device-slowdown)' })),
    edge_slowdown: opt(Type.Number({ minimum: 1, description: 'lab: the edge tier calibrated this many times slower than the cloud (--edge-slowdown)' })),
    configs: Type.Integer({ minimum: 1, description: 'configurations (x, y) measured in each condition' }),
    max_configs: opt(Type.Integer({ minimum: 1, description: '--max-configs: the configurations were sampled (seeded, the pure ones always kept) down to this many' })),
  },
  { description: 'three-tier runs (--tiers 3); absent: two tiers (edge and cloud)' },
);

export const InputsMetaSchema = Type.Object(
  {
    kind: Type.Union([Type.Literal('random'), Type.Literal('images')], { description: "what the edge fed the model: generated random tensors, or camera frames from image files (--inputs)" }),
    files: Type.Array(Type.String(), { description: 'the image files (relative paths or names); empty for random inputs' }),
    frames: Type.Integer({ minimum: 0, description: 'number of distinct input frames the sweep cycled through' }),
    preprocess: Type.Union(['tf', 'caffe', 'torch', 'unit', 'raw'].map((m) => Type.Literal(m)), { description: "how a frame became the model's input: tf, caffe, torch, unit or raw (--preprocess)" }),
    layout: Type.Union([Type.Literal('nhwc'), Type.Literal('nchw')], { description: "the model input's layout" }),
  },
  { description: 'the inputs the run fed the model' },
);

export const CodecsMetaSchema = Type.Object(
  {
    input: Type.Array(Type.String(), { description: 'wire codec labels measured at the input point (f32 = raw float32, u8, jpeg:Q, png, webp:Q)' }),
    inner: Type.Array(Type.String(), { description: 'tensor codec names measured at inner points (f32, f16, int8, int8-ch, lz4, ...)' }),
  },
  { description: 'the wire codecs the run measured (--input-codec, --codec)' },
);

export const FidelityRecordSchema = Type.Object(
  {
    cut: Type.String({ description: 'the partition point (its layer name, as in cuts[].layer)' }),
    codec: Type.String({ description: 'the wire codec label' }),
    bytes: Type.Number({ minimum: 0, description: 'mean encoded bytes of the crossing tensor per input' }),
    ratio: Type.Number({ minimum: 0, description: 'bytes / float32 bytes of the same tensor' }),
    encode_ms: Type.Number({ minimum: 0, description: 'mean encode time per input, ms' }),
    decode_ms: Type.Number({ minimum: 0, description: 'mean decode time per input, ms' }),
    max_abs_diff: orNull(Type.Number({ minimum: 0 }), "largest absolute difference of the model's output from the unsplit f32 model's (null: NaN, an output was not finite)"),
    rel_l2: orNull(Type.Number({ minimum: 0 }), "relative L2 distance of the model's output from the unsplit f32 model's (null: NaN)"),
    top1_agreement: Type.Number({ minimum: 0, maximum: 1, description: "fraction of inputs whose top-1 class equals the f32 model's own" }),
    top5_agreement: Type.Number({ minimum: 0, maximum: 1, description: "fraction of inputs whose top-5 classes contain the f32 model's top-1" }),
    inputs: Type.Integer({ minimum: 0, description: 'number of inputs the figures are over' }),
  },
  { description: 'the fidelity of one (point, codec) pair, as dnn-cut --codecs --json gives it (cuts[].codecs[]) plus its point' },
);
export type FidelityRecord = Static<typeof FidelityRecordSchema>;

/** How conditions were applied. Every field is optional: files of earlier releases lack some. */
export const RunConditionsSchema = Type.Object(
  {
    lab: opt(Type.Boolean({ description: "the cloud ran in the lab (dnn-edge lab ...): a private network namespace on this machine" })),
    devices: opt(
      Type.Object(
        { edge: orNull(DeviceMetaSchema, 'limits of the edge device'), cloud: orNull(DeviceMetaSchema, 'limits of the cloud device') },
        { description: 'each end as a device: its CPU set, CPU time and memory limits' },
      ),
    ),
    shaped: opt(Type.Boolean({ description: 'the network was shaped (tc) for each condition; false: measured as it is (--no-shape)' })),
    design: opt(Type.String({ description: `how the conditions were chosen: a --design (${DESIGNS.join(', ')}), 'file <conditions file>' or 'trace <trace file>'` })),
    quick: opt(Type.Boolean({ description: 'the run was a --quick first look' })),
    iface: opt(orNull(Type.String(), 'the interface that was shaped, or null')),
    edge_stressor: opt(Type.String({ description: "what applied the edge's CPU/memory stress: stress-ng, builtin, or none" })),
    adaptive: opt(AdaptiveMetaSchema),
  },
  { description: 'how conditions were applied' },
);
export type RunConditions = Static<typeof RunConditionsSchema>;

export const RunMetadataSchema = Type.Object({
  format: opt(Type.Integer({ minimum: 1, maximum: RESULTS_FORMAT, description: 'version of the results format (absent: 1)' })),
  tool: Type.Literal('dnn-partition-bench', { description: 'the tool that wrote the file' }),
  tool_version: Type.String({ description: 'its version (package.json)' }),
  protocol_version: Type.Integer({ minimum: 1, description: 'version of the edge-cloud protocol the run spoke' }),
  network: Type.String({ description: 'zoo name or model file of the network' }),
  fingerprint: Type.String({ description: "hash of the model's architecture and weights: equal fingerprint = same model" }),
  seed: Type.Integer({ description: 'seed of the generated (untrained) weights' }),
  params: Type.Integer({ minimum: 0, description: 'number of parameters of the model' }),
  input_shape: Type.Array(Type.Number(), { description: 'shape of the model input, batch excluded' }),
  cuts: Type.Array(CutInfoSchema, { description: 'every partition point of the model, in model order (not only the measured ones)' }),
  edge: EdgeEndSchema,
  cloud: CloudEndSchema,
  command_line: Type.Array(Type.String(), { description: 'the dnn-edge command line' }),
  started: Type.String({ description: 'start of the run, ISO 8601 UTC' }),
  reps: Type.Integer({ minimum: 0, description: 'recorded samples per point and condition' }),
  warmup: Type.Integer({ minimum: 0, description: 'unrecorded runs before each point' }),
  scenario: opt(Type.String({ description: 'the load scenario of the cells (--scenario): stream:FPS, server:RATE or max; absent: single (one request at a time)' })),
  in_flight: opt(Type.Integer({ minimum: 1, description: 'scenario runs: the cap on frames in flight (--in-flight)' })),
  edges: opt(Type.Integer({ minimum: 2, description: 'edges measuring together against one cloud (lab --edges N); absent: one' })),
  race: opt(RaceMetaSchema),
  tiers: opt(TiersMetaSchema),
  plan: opt(Type.Object(PlanRecordSchema.properties, { description: 'the whole sweep this file is part of (files written before sharding existed lack it)' })),
  shard: opt(Type.Object(ShardRecordSchema.properties, { description: 'present when the run measured one shard of the plan (--shard K/N)' })),
  schedule: opt(ScheduleMetaSchema),
  conditions: opt(RunConditionsSchema),
  inputs: opt(InputsMetaSchema),
  codecs: opt(CodecsMetaSchema),
  fidelity: opt(Type.Array(FidelityRecordSchema, { description: 'measured fidelity per (point, codec) pair (dnn-cut --codecs, or the sweep); the report keeps pairs within --max-agreement-loss' })),
});
export type RunMetadata = Static<typeof RunMetadataSchema>;

const metaChecker: Checker<typeof RunMetadataSchema> = checker({
  what: '#dnn-meta',
  schema: RunMetadataSchema,
  format: RESULTS_FORMAT,
  fix: 'fix the field or restore the line from the original file (docs/results-format.md lists every field)',
});

/**
 * The run metadata of a `#dnn-meta` line's JSON, checked: a FormatError names `where` (FILE:LINE),
 * the field, what was expected and what was found; a newer format says to upgrade the tool.
 */
export function checkRunMetadata(value: unknown, where: string): RunMetadata {
  const meta = metaChecker.check(value, where);
  const wrong = shardPlanProblem(meta.plan, meta.shard);
  if (wrong) throw new FormatError(`${where}: #dnn-meta field ${wrong}; ${metaChecker.kind.fix}`);
  return meta;
}

/** The checker itself, for tests and the docs check. */
export const runMetadataKind = metaChecker.kind;
