import t from 'tap';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runBin } from '../helpers/cli.js';
import { userErrorOf } from '../helpers/user-error.js';
import { parseEdgeOptions } from '../../src/cli/edge-options.js';
import { HelpRequested } from '../../src/cli/common.js';
import { NO_CONDITION } from '../../src/conditions/condition.js';

t.test('dnn-edge: bad flags get one clear line and exit 2, before anything is changed', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'dnn-edge-args-'));
  await writeFile(path.join(dir, 'bad.conditions'), 'net=10;ecpu=50\nnet=fast\n');
  // three-tier traces (issue 23): a tag trace naming the device link, a one-rate trace, a stressed one, one shaping the device link at some steps only
  const dnet = path.join(dir, 'dnet.trace');
  const rates = path.join(dir, 'rates.trace');
  await writeFile(dnet, 't=0;dnet=50;net=20\nt=2;dnet=5\n');
  await writeFile(rates, '0 10\n2 5\n');
  await writeFile(path.join(dir, 'stressed.trace'), 't=0;dnet=50;net=20\nt=2;ecpu=50\n');
  await writeFile(path.join(dir, 'gap.trace'), 't=0;dnet=50;net=20\nt=2;dnet=none\n');
  const cases: [string[], RegExp][] = [
    [['127.0.0.1', 'lenet', '--net', 'fast'], /--net: 'fast' is not a number of Mbit\/s/],
    [['127.0.0.1', 'lenet', '--edge-cpu', '150'], /--edge-cpu: 150 is out of range/],
    [['127.0.0.1', 'lenet', '--conditions', path.join(dir, 'nope')], /--conditions: cannot read .*nope.*ENOENT/],
    [['127.0.0.1', 'lenet', '--conditions', path.join(dir, 'bad.conditions')], /bad\.conditions:2: net: 'fast' is not/],
    [['127.0.0.1', 'lenet', '--no-shape', '--net', '10'], /--net need shaping: drop --no-shape/],
    [['127.0.0.1', 'lenet', '--reps', '0'], /--reps must be between 1 and/],
    [['127.0.0.1', 'lenet', '--give-up', 'soon'], /--give-up must be a duration like 300s/],
    [['127.0.0.1', 'lenet', '--design', 'random'], /argument 'random' is invalid/],
    [['127.0.0.1', 'resnet51', '--no-shape'], /unknown network 'resnet51'/],
    [['127.0.0.1', 'lenet', '--max-frame', 'big'], /--max-frame must be a size like/],
    [['127.0.0.1', 'lenet', '--order', 'shuffled'], /argument 'shuffled' is invalid/],
    [['127.0.0.1', 'lenet', '--reference-every', '-1'], /--reference-every must be/],
    [['127.0.0.1', 'lenet', '--min-reps', '2'], /--min-reps needs --race/],
    [['127.0.0.1', 'lenet', '--race-prior', '2'], /--race-prior needs --race/],
    [['127.0.0.1', 'lenet', '--race', '--reps', '5', '--min-reps', '6'], /--min-reps 6 is more than --reps 5/],
    [['127.0.0.1', 'lenet', '--race', '--reps', '1'], /--race needs --reps 2 or more/],
    [['127.0.0.1', 'lenet', '--race', '--scenario', 'max'], /--race races single requests: it cannot be combined with --scenario max/],
    [['127.0.0.1', 'lenet', '--race', '--trace', 'x.trace'], /--race races the points of a sweep: it cannot be combined with --trace/],
    [['lab', 'lenet', '--race', '--edges', '2'], /--race cannot be combined with --edges 2/],
    [['127.0.0.1', 'lenet', '--race', '--race-prior', '1'], /--race-prior must be a factor above 1/],
    // three tiers (issue 23): its flags need --tiers 3, and what is not yet combined with it is refused
    [['lab', 'lenet', '--device-net', '50'], /--device-net needs --tiers 3/],
    [['lab', 'lenet', '--device-slowdown', '10'], /--device-slowdown needs --tiers 3/],
    [['lab', 'lenet', '--max-configs', '10'], /--max-configs needs --tiers 3/],
    [['lab', 'lenet', '--configs', 'conv1|pool1'], /--configs needs --tiers 3/],
    [['lab', 'lenet', '--tiers', '4'], /--tiers must be between 2 and 3/],
    [['lab', 'lenet', '--tiers', '3', '--device-net', 'fast'], /--device-net: 'fast' is not a number of Mbit\/s/],
    [['lab', 'lenet', '--tiers', '3', '--device-slowdown', '0.5'], /--device-slowdown must be a factor from 1/],
    [['lab', 'lenet', '--tiers', '3', '--max-configs', '2'], /--max-configs must be between 3 and/],
    [['lab', 'lenet', '--tiers', '3', '--configs', 'conv1'], /--configs: 'conv1' is not x\|y/],
    [['lab', 'lenet', '--tiers', '3', '--configs', 'conv1|pool1', '--max-configs', '5'], /--configs lists the configurations itself/],
    [['lab', 'lenet', '--tiers', '3', '--codec', 'f32,int8'], /--tiers 3 cannot be combined with --codec\/--input-codec other than f32 yet/],
    [['lab', 'lenet', '--tiers', '3', '--scenario', 'max'], /--tiers 3 cannot be combined with --scenario max yet/],
    [['lab', 'lenet', '--tiers', '3', '--race'], /--tiers 3 cannot be combined with --race yet/],
    [['lab', 'lenet', '--tiers', '3', '--edges', '2'], /--tiers 3 cannot be combined with --edges 2 yet/],
    [['lab', 'lenet', '--tiers', '3', '--edge-cpu', '0,50'], /--tiers 3 cannot be combined with --edge-cpu other than 0 yet/],
    [['lab', 'lenet', '--tiers', '3', '--cloud-mem', '50'], /--tiers 3 cannot be combined with --cloud-mem other than 0 yet/],
    [['lab', 'lenet', '--tiers', '3', '--edge-cpus', '0.5'], /--tiers 3 cannot be combined with --edge-cpuset/],
    [['10.0.0.2', 'lenet', '--tiers', '3', '--device-slowdown', '4'], /--device-slowdown calibrates the lab's device/],
    [['10.0.0.2', 'lenet', '--tiers', '3'], /--tiers 3 shapes its two links only in the lab/],
    [['lab', 'lenet', '--trace', dnet], /dnet\.trace: the trace sets dnet= \(the device link of three tiers\): replay it with --tiers 3/],
    [['lab', 'lenet', '--trace', rates, '--trace-link', 'device'], /--trace-link picks one of the two links of three tiers: it needs --tiers 3/],
    [['lab', 'lenet', '--tiers', '3', '--trace-link', 'edge'], /--trace-link needs --trace FILE/],
    [['lab', 'lenet', '--tiers', '3', '--trace', rates, '--trace-link', 'cloud'], /argument 'cloud' is invalid/],
    [['lab', 'lenet', '--tiers', '3', '--trace', dnet, '--trace-link', 'device'], /--trace-link is for one-rate traces .*names each link itself/],
    [['lab', 'lenet', '--tiers', '3', '--trace', dnet, '--policies', 'adaptive,static:all'], /--tiers 3 --trace replays static configurations and the oracle only: .*adaptive needs a learning three-tier cost model/],
    [['lab', 'lenet', '--tiers', '3', '--trace', dnet, '--policies', 'oracle'], /the oracle predicts each configuration from a three-tier sweep of this network: give it with --profile FILE/],
    [['lab', 'lenet', '--tiers', '3', '--trace', dnet, '--profile', 'x.hdr'], /--profile fits the oracle of --tiers 3 --trace: add oracle to --policies/],
    [['lab', 'lenet', '--tiers', '3', '--trace', dnet, '--interval', '100'], /--tiers 3 --trace sends requests back to back: drop --interval/],
    [['lab', 'lenet', '--tiers', '3', '--trace', dnet, '--resume', 'x.hdr'], /--trace replays the trace into a fresh results file: drop --resume/],
    [['lab', 'lenet', '--trace', rates, '--resume', 'x.hdr'], /--trace replays the trace into a fresh results file: drop --resume .*dnn-report reads them/],
    [['lab', 'lenet', '--tiers', '3', '--trace', path.join(dir, 'stressed.trace')], /stressed\.trace: the step at 2 s stresses an end .*not stress yet/],
    [['lab', 'lenet', '--tiers', '3', '--trace', path.join(dir, 'gap.trace')], /the step at 2 s leaves the device link unshaped \(dnet=none\) while others shape it/],
  ];
  // in process: parseEdgeOptions raises what runMain prints as one line with exit 2
  for (const [args, re] of cases) {
    const e = await userErrorOf(() => parseEdgeOptions(args));
    t.equal(e?.exitCode, 2, `exit 2 for ${args.slice(2).join(' ')}`);
    t.match(e?.message, re, args.slice(2).join(' '));
    t.notMatch(e?.message, /\n/, 'one line');
  }
});

t.test('dnn-edge --tiers 3 --trace: a tag trace shapes both links, a one-rate trace the link --trace-link names; static configurations by default', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'dnn-edge-tier-trace-'));
  const tags = path.join(dir, 'tags.trace');
  const rates = path.join(dir, 'rates.trace');
  await writeFile(tags, 't=0;dnet=50;net=20\nt=2;dnet=5\n');
  await writeFile(rates, '0 10\n2 5\n');
  const o = parseEdgeOptions(['lab', 'lenet', '--tiers', '3', '--trace', tags, '--trace-scale', '2']);
  t.equal(o.trace?.policies, 'static:all', 'the default policies: every configuration as a static');
  t.equal(o.trace?.link, undefined, 'a tag trace names its links');
  t.same(o.trace?.schedule.steps.map((s) => [s.atMs, s.condition.dnet, s.condition.net]), [[0, 100, 40], [2000, 10, 40]], 'dnet scaled like net');
  const device = parseEdgeOptions(['lab', 'lenet', '--tiers', '3', '--trace', rates, '--trace-link', 'device', '--policies', 'static:auto']);
  t.equal(device.trace?.link, 'device');
  t.equal(device.trace?.policies, 'static:auto');
  t.same(device.trace?.schedule.steps.map((s) => [s.condition.dnet, s.condition.net]), [[10, null], [5, null]], 'the rates on the device link, the edge link unshaped');
  const edge = parseEdgeOptions(['lab', 'lenet', '--tiers', '3', '--trace', rates]);
  t.equal(edge.trace?.link, 'edge', '--trace-link edge by default');
  t.same(edge.trace?.schedule.steps.map((s) => [s.condition.dnet, s.condition.net]), [[null, 10], [null, 5]]);
  t.same(parseEdgeOptions(['lab', 'lenet', '--trace', rates]).trace?.schedule.steps.map((s) => s.condition.net), [10, 5], 'two tiers: as before');
});

t.test('dnn-edge --tiers 3: the device link is a factor like --net; no stress by default', async (t) => {
  const o = parseEdgeOptions(['lab', 'lenet', '--tiers', '3', '--device-net', '50,5', '--net', '10,50', '--device-slowdown', '10', '--edge-slowdown', '2', '--max-configs', '12']);
  t.same(o.tiers, { deviceSlowdown: 10, maxConfigs: 12 });
  t.equal(o.slowdown, 2, '--edge-slowdown: the edge tier');
  t.same(o.conditions.map((c) => `${c.net}/${c.dnet}`), ['10/50', '10/5', '50/50', '50/5'], 'a full factorial of the two links');
  t.ok(o.conditions.every((c) => c.ecpu === 0 && c.emem === 0 && c.ccpu === 0 && c.cmem === 0), 'no stress');
  t.ok(o.shaping);
  const oat = parseEdgeOptions(['lab', 'lenet', '--tiers', '3', '--device-net', '50,5', '--net', '10,50', '--design', 'one-at-a-time']);
  t.same(oat.conditions.map((c) => `${c.net}/${c.dnet}`), ['10/50', '50/50', '10/5'], 'one at a time, as --net');
  t.equal(parseEdgeOptions(['lab', 'lenet', '--net', '10']).tiers, undefined, 'two tiers by default');
  t.ok(parseEdgeOptions(['lab', 'lenet', '--net', '10']).conditions.every((c) => c.dnet === null), 'two tiers: the device link is not a factor');
  t.same(parseEdgeOptions(['lab', 'lenet', '--tiers', '3', '--configs', 'a|b,c|d']).tiers, { configs: ['a|b', 'c|d'] });
  t.same(parseEdgeOptions(['10.0.0.2', 'lenet', '--tiers', '3', '--no-shape']).conditions.length, 1, 'a relay elsewhere: the links as they are');
});

t.test('dnn-edge: defaults, and what the flags turn into', async (t) => {
  const o = parseEdgeOptions(['10.0.0.2', 'lenet']);
  t.match(o, { host: '10.0.0.2', port: 5000, network: 'lenet', lab: false, cuts: 'all', reps: 5, warmup: 1, out: 'results', giveUpMs: 300_000, timeoutMs: 120_000, maxFrame: 256 * 1024 * 1024 });
  t.equal(o.conditions.length, 243, "the published tool's grid");
  t.ok(o.shaping);
  t.equal(o.design, 'factorial');
  t.same(o.commandLine, ['dnn-edge', '10.0.0.2', 'lenet']);

  const q = parseEdgeOptions(['lab', 'lenet', '--quick', '--no-shape', '--give-up', '2m', '--timeout', '1500ms', '--input-shape', '28x28x1']);
  t.match(q, { lab: true, quick: true, reps: 8, maxPoints: 10, order: 'randomized', referenceEvery: 4, shaping: false, giveUpMs: 120_000, timeoutMs: 1500, inputShape: [28, 28, 1] });
  t.ok(q.conditions.every((c) => c.net === null), '--no-shape: the link as it is');
  const labels = (o: { codecs?: { name: string }[]; inputCodecs?: { label: string }[] }) => [o.inputCodecs?.map((c) => c.label).join(','), o.codecs?.map((c) => c.name).join(',')];
  t.same(labels(q), ['f32,jpeg:90', 'f32,f16,int8'], '--quick: the float32 baseline, a JPEG at the input, f16 and int8 inside');
  t.equal(q.optionalImageCodecs, true, "the quick look's JPEG is dropped where a network has no camera frames");
  t.same(labels(parseEdgeOptions(['lab', 'lenet', '--quick', '--inputs', 'random'])), ['f32', 'f32,f16,int8'], '--quick --inputs random: no JPEG (no frames)');
  const own = parseEdgeOptions(['lab', 'lenet', '--quick', '--codec', 'f32']);
  t.same(labels(own), ['f32', 'f32'], '--quick with --codec: the codecs as asked');
  t.notOk(own.optionalImageCodecs);
  t.same(labels(parseEdgeOptions(['lab', 'lenet'])), ['f32', 'f32'], 'without --quick: float32 alone');

  const one = parseEdgeOptions(['h', 'lenet', '--net', 'none', '--edge-cpu', '0', '--edge-mem', '0', '--cloud-cpu', '0', '--cloud-mem', '0']);
  t.same(one.conditions, [NO_CONDITION]);
  t.notOk(one.shaping, 'an unshaped, unstressed condition needs no tc');
  t.match(parseEdgeOptions(['h', 'lenet', '--order', 'sequential', '--order-seed', '7', '--reference-every', '0']), { order: 'sequential', orderSeed: 7, referenceEvery: 0 });
});

t.test('dnn-edge --race: its settings and defaults', async (t) => {
  t.equal(parseEdgeOptions(['10.0.0.2', 'lenet']).race, undefined, 'no racing unless asked');
  t.same(parseEdgeOptions(['10.0.0.2', 'lenet', '--race']).race, { minReps: 3, prior: 1.5 });
  t.same(parseEdgeOptions(['10.0.0.2', 'lenet', '--race', '--reps', '2']).race, { minReps: 2, prior: 1.5 }, '--min-reps defaults to at most --reps');
  t.same(parseEdgeOptions(['10.0.0.2', 'lenet', '--race', '--reps', '10', '--min-reps', '4', '--race-prior', 'off']).race, { minReps: 4, prior: null });
  t.same(parseEdgeOptions(['10.0.0.2', 'lenet', '--race', '--race-prior', '2.5']).race, { minReps: 3, prior: 2.5 });
});

t.test('dnn-edge: device limits and the emulated device class', async (t) => {
  t.same(parseEdgeOptions(['10.0.0.2', 'lenet']).limits, { edge: {}, cloud: {} });
  t.equal(parseEdgeOptions(['10.0.0.2', 'lenet']).slowdown, undefined, 'no calibration unasked');
  const lab = parseEdgeOptions(['lab', 'lenet', '--edge-cpuset', '0', '--edge-memory', '512MiB', '--cloud-cpuset', '1', '--cloud-cpus', '0.5']);
  t.same(lab.limits, { edge: { cpuset: '0', memoryBytes: 512 * 2 ** 20 }, cloud: { cpuset: '1', cpus: 0.5 } });
  t.equal(parseEdgeOptions(['lab', 'lenet', '--quick']).slowdown, 10, '--quick in the lab emulates an edge of another class');
  t.equal(parseEdgeOptions(['lab', 'lenet', '--quick', '--edge-slowdown', '1']).slowdown, undefined, '--edge-slowdown 1 turns it off');
  t.equal(parseEdgeOptions(['lab', 'lenet', '--edge-slowdown', '5']).slowdown, 5);
  t.equal(parseEdgeOptions(['10.0.0.2', 'lenet', '--quick']).slowdown, undefined, 'a real edge is what it is');
  t.match((await userErrorOf(() => parseEdgeOptions(['10.0.0.2', 'lenet', '--cloud-cpus', '1'])))?.message, /limit the lab's cloud; .* pass them to its dnn-cloud/);
  t.match((await userErrorOf(() => parseEdgeOptions(['lab', 'lenet', '--edge-slowdown', '5', '--edge-cpus', '0.5'])))?.message, /--edge-slowdown sets the edge's CPU time itself: drop --edge-cpus/);
  t.match((await userErrorOf(() => parseEdgeOptions(['lab', 'lenet', '--edge-slowdown', '0.5'])))?.message, /--edge-slowdown must be a factor from 1 \(off\) to 1000/);
});

t.test('dnn-edge: the shard from --shard, the batch system, or none', async (t) => {
  t.equal(parseEdgeOptions(['h', 'lenet'], {}).shard, undefined, 'not sharded');
  t.same(parseEdgeOptions(['h', 'lenet', '--shard', '2/3'], {}).shard, { index: 2, count: 3 });
  t.same(parseEdgeOptions(['h', 'lenet', '--shards', '4'], { JOB_COMPLETION_INDEX: '0' }).shard, { index: 1, count: 4 }, 'Kubernetes index 0 = shard 1');
  t.same(parseEdgeOptions(['h', 'lenet'], { SLURM_ARRAY_TASK_ID: '2', SLURM_ARRAY_TASK_COUNT: '3', SLURM_ARRAY_TASK_MIN: '0' }).shard, { index: 3, count: 3 });
  const dry = parseEdgeOptions(['h', 'lenet', '--dry-run', '--shards', '8'], {});
  t.match(dry, { dryRun: true, dryRunShards: 8, shard: undefined }, '--dry-run --shards N alone shows every shard');
  for (const [args, env, re] of [
    [['--shard', '3'], {}, /--shard must be K\/N/],
    [['--shard', '4/3'], {}, /K must be between 1 and 3/],
    [['--shards', '3'], {}, /needs the shard index/],
    [[], { JOB_COMPLETION_INDEX: '1' }, /pass --shards N/],
    [['--quick', '--shard', '1/2'], {}, /--quick is a first look/],
  ] as [string[], NodeJS.ProcessEnv, RegExp][]) {
    const e = await userErrorOf(() => parseEdgeOptions(['h', 'lenet', ...args], env));
    t.equal(e?.exitCode, 2);
    t.match(e?.message, re, args.join(' ') || JSON.stringify(env));
  }
});

t.test('dnn-edge --help: every condition flag with its default', async (t) => {
  let help: unknown;
  try {
    parseEdgeOptions(['--help']);
  } catch (e) {
    help = e;
  }
  t.ok(help instanceof HelpRequested);
  const text = (help as HelpRequested).text.replace(/\s+/g, ' '); // commander wraps at 80 columns
  t.match(text, /Usage: dnn-edge \[options\] <host> <network>/);
  t.match(text, /--edge-cpu <pct> edge CPU stress levels in % \(default: 0,50,100\)/);
  t.match(text, /--delay <ms> added one-way delay levels in ms \(netem; default: 0\)/);
  t.match(text, /--net <mbits> network rate levels in Mbit\/s, or none \(default: 50,25,10\)/);
});

t.test('dnn-edge as a process: a bad flag exits 2 with one line and no stack trace; --help exits 0', async (t) => {
  const r = await runBin('dnn-edge', ['127.0.0.1', 'lenet', '--edge-cpu', '150']);
  t.equal(r.exitCode, 2, 'exit 2 for --edge-cpu 150');
  t.match(String(r.stderr), /^dnn-edge: --edge-cpu: 150 is out of range[^\n]+$/, 'one line, named after the command');
  t.notMatch(String(r.stderr), /\n\s+at /, 'no stack trace');
  const help = await runBin('dnn-edge', ['--help']);
  t.equal(help.exitCode, 0, String(help.stderr));
  t.match(String(help.stdout), /--cloud-mem <pct>/);
});
