// test-process: shared (pure: no backend, environment, signal handlers or children; see test/run-shared.ts)
import t from 'tap';
import { userErrorOf } from '../helpers/user-error.js';
import { parseEdgeOptions } from '../../src/cli/edge-options.js';
import { edgeDeviceLimits } from '../../src/edge/lab-edges/devices.js';
import { barrierController } from '../../src/edge/lab-edges/role.js';
import { decodeCellHistograms, encodeCell, openChannel, MESSAGE_MARKER } from '../../src/edge/lab-edges/ipc.js';
import { cloudClients } from '../../src/edge/lab-edges/fleet.js';
import { NO_CONDITION, type Condition } from '../../src/conditions/condition.js';
import { newLatencyHistogram } from '../../src/results/log-lines.js';
import { PassThrough } from 'node:stream';

/** lab --edges N without a lab: its checks, device shares, barrier order and channel, in process (the binary's checks: lab-edges.test.ts). */

const ONE_LEVEL = ['--net', '50', '--edge-cpu', '0', '--edge-mem', '0', '--cloud-cpu', '0', '--cloud-mem', '0'];

t.test('--edges: every mistake is one line, before anything starts', async (t) => {
  const cases: [string[], RegExp][] = [
    [['127.0.0.1', 'lenet', '--edges', '2', ...ONE_LEVEL], /--edges 2 starts edge devices in the local lab: use 'dnn-edge lab <network> --edges 2'/],
    [['lab', 'lenet', '--edges', '0', ...ONE_LEVEL], /--edges must be between 1 and 16/],
    [['lab', 'lenet', '--edges', '17', ...ONE_LEVEL], /--edges must be between 1 and 16/],
    [['lab', 'lenet', '--edges', '2', '--resume', 'x.hdr', ...ONE_LEVEL], /cannot be combined with --resume/],
    [['lab', 'lenet', '--edges', '2', '--shard', '1/2', ...ONE_LEVEL], /cannot be combined with --shard/],
    [['127.0.0.1', 'lenet', '--cloud-queue', '8', ...ONE_LEVEL], /--cloud-queue\/--cloud-concurrency set the lab's cloud/],
  ];
  for (const [args, re] of cases) {
    const e = await userErrorOf(() => parseEdgeOptions(args));
    t.match(e?.message, re, args.join(' '));
  }
  t.equal(parseEdgeOptions(['lab', 'lenet', ...ONE_LEVEL]).edges, 1, 'one edge by default');
  t.equal(parseEdgeOptions(['lab', 'lenet', '--edges', '3', ...ONE_LEVEL]).edges, 3);
});

t.test('each edge a device: shares of the edge CPU set, or refused', async (t) => {
  const one = { cpuset: '0' };
  const o = { memAvailable: 8 * 2 ** 30 };
  t.same(edgeDeviceLimits(1, one, o), one, 'one edge: the lab as it was');
  t.same(edgeDeviceLimits(2, one, o), { cpuset: '0', cpus: 0.5 }, 'an equal share each');
  t.same(edgeDeviceLimits(3, { cpuset: '0', cpus: 0.3 }, o), { cpuset: '0', cpus: 0.3 }, '--edge-cpus as given');
  t.same(edgeDeviceLimits(3, one, { ...o, slowdown: 10 }), one, '--edge-slowdown: the calibrated quota comes later');
  t.same(edgeDeviceLimits(10, one, o).cpus, 0.1, 'ten edges on one CPU');
  t.throws(() => edgeDeviceLimits(11, one, o), /at most 10 edges/);
  t.throws(() => edgeDeviceLimits(4, { cpuset: '0', cpus: 0.3 }, o), /at most 3 edges/);
  t.throws(() => edgeDeviceLimits(3, { cpuset: '0', memoryBytes: 4 * 2 ** 30 }, o), /3 edges need 12288 MiB, 8192 MiB are available/);
});

t.test('a condition starts on all edges together: barrier, apply, barrier; the same keys on every edge', async (t) => {
  const seen: string[] = [];
  const inner = { apply: async (c: Condition) => void seen.push(`apply ${c.net}`), release: async () => void seen.push('release') };
  const c = barrierController(inner, async (key) => void seen.push(`barrier ${key}`));
  await c.apply({ ...NO_CONDITION, net: 50 });
  await c.release();
  await c.apply({ ...NO_CONDITION, net: 10 });
  t.same(seen.map((s) => s.replace(/net=(\d+);.*?( finished| in)/, 'net=$1$2')), [
    'barrier 0 net=50 finished before',
    'apply 50',
    'barrier 0 net=50 in effect',
    'release',
    'barrier 1 net=10 finished before',
    'apply 10',
    'barrier 1 net=10 in effect',
  ]);
});

t.test('the channel: a cell crosses whole, other lines are log', async (t) => {
  const h = newLatencyHistogram();
  for (const v of [1000, 2000, 300_000]) h.recordValue(v);
  const histograms = { edge: h, transfer: h, cloud: h, total: h };
  const wire = encodeCell(NO_CONDITION, 'conv1', histograms, 10, 20, undefined, 'f16');
  const back = decodeCellHistograms(JSON.parse(JSON.stringify(wire)));
  t.equal(back.total.totalCount, 3);
  t.same([50, 100].map((p) => back.total.getValueAtPercentile(p)), [50, 100].map((p) => h.getValueAtPercentile(p)), 'the same values');
  t.equal(wire.codec, 'f16');

  const input = new PassThrough();
  const got: unknown[] = [];
  const other: string[] = [];
  const ch = openChannel<{ t: string }, { t: string }>(input, new PassThrough(), (m) => got.push(m), (l) => other.push(l));
  input.write(`${MESSAGE_MARKER}{"t":"at","key":"k"}\nHi there, a library's greeting\n`);
  input.end();
  await ch.closed;
  t.same(got, [{ t: 'at', key: 'k' }]);
  t.same(other, ["Hi there, a library's greeting"]);
});

t.test("the cloud's log: one HELLO address per connection", async (t) => {
  const log = 'client 1 (198.18.0.5:40000): HELLO from vm (onnx), serving lenet\nclient 2 (198.18.0.9:40002): HELLO from vm (onnx), serving lenet\n';
  t.same(cloudClients(log), ['198.18.0.5', '198.18.0.9']);
});
