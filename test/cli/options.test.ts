// test-process: shared (pure: no backend, environment, signal handlers or children; see test/run-shared.ts)
import t from 'tap';
import { parseCloudOptions } from '../../src/cli/cloud-options.js';
import { parseReportOptions } from '../../src/cli/report-options.js';
import { parseCutOptions } from '../../src/cli/cut-options.js';
import { parseRelayOptions } from '../../src/cli/relay-options.js';
import { HelpRequested } from '../../src/cli/common.js';
import { userErrorOf } from '../helpers/user-error.js';

/** In process, in milliseconds: what dnn-cloud, dnn-cut and dnn-report make of their arguments. */

t.test('dnn-cloud: defaults, flags, and mistakes as UserErrors', async (t) => {
  t.same(parseCloudOptions(['lenet']), { network: 'lenet', port: 5000, host: '0.0.0.0', backend: 'auto', seed: 1, maxFrame: 256 * 1024 * 1024, stressor: 'auto', queue: 32, concurrency: 1, parent: undefined, limits: {}, inDevice: false });
  t.match(parseCloudOptions(['lenet', '--queue', '8', '--concurrency', '2', '--backend', 'onnx']), { queue: 8, concurrency: 2 });
  t.match((await userErrorOf(() => parseCloudOptions(['lenet', '--queue', '0'])))?.message, /--queue must be between 1 and 100000, got 0/);
  t.match((await userErrorOf(() => parseCloudOptions(['lenet', '--concurrency', '2', '--backend', 'wasm'])))?.message, /--concurrency 2 needs --backend onnx: backend wasm computes on the main thread/);
  t.same(parseCloudOptions(['lenet', '--cloud-cpuset', '1-3', '--cloud-cpus', '0.5', '--cloud-memory', '2G']).limits, { cpuset: '1,2,3', cpus: 0.5, memoryBytes: 2 * 1024 ** 3 });
  t.match((await userErrorOf(() => parseCloudOptions(['lenet', '--cloud-cpus', '0'])))?.message, /--cloud-cpus must be CPU time in cores above 0/);
  t.match((await userErrorOf(() => parseCloudOptions(['lenet', '--cloud-cpuset', '2-1'])))?.message, /--cloud-cpuset: '2-1': range 2-1 runs backwards/);
  t.match((await userErrorOf(() => parseCloudOptions(['lenet', '--cloud-memory', '1k'])))?.message, /--cloud-memory must be between 16MiB and/);
  t.match(parseCloudOptions(['lenet', '--port', '0', '--parent-pid', '123:456', '--input-shape', '28x28x1']), { port: 0, parent: { pid: 123, start: 456 }, inputShape: [28, 28, 1] });
  t.match((await userErrorOf(() => parseCloudOptions(['lenet', '--port', '70000'])))?.message, /--port must be between 0 and 65535/);
  t.match((await userErrorOf(() => parseCloudOptions(['lenet', '--parent-pid', 'x'])))?.message, /--parent-pid must be <pid>:<start time>/);
  t.match((await userErrorOf(() => parseCloudOptions(['alexnet2'])))?.message, /unknown network 'alexnet2'/);
  t.match((await userErrorOf(() => parseCloudOptions(['lenet', '--stressor', 'magic'])))?.message, /argument 'magic' is invalid.*\(run dnn-cloud --help for usage\)$/);
});

t.test('dnn-relay: defaults, flags, and one-line errors', async (t) => {
  t.same(parseRelayOptions(['198.18.0.2', 'mobilenet']), {
    nextHost: '198.18.0.2', nextPort: 5000, network: 'mobilenet', port: 5000, listen: '0.0.0.0', backend: 'auto', seed: 1, maxFrame: 256 * 1024 * 1024, giveUpMs: 60_000, timeoutMs: 120_000,
  });
  t.match(parseRelayOptions(['cloud', 'lenet', '--port', '0', '--next-port', '5001', '--listen', '127.0.0.1', '--give-up', '5s', '--parent-pid', '1:2', '--token', 's']), {
    port: 0, nextPort: 5001, listen: '127.0.0.1', giveUpMs: 5000, parent: { pid: 1, start: 2 }, token: 's',
  });
  t.match((await userErrorOf(() => parseRelayOptions(['cloud:5000', 'lenet'])))?.message, /^<next-host> 'cloud:5000' carries a port: give the host alone and the port with --next-port 5000$/);
  t.match((await userErrorOf(() => parseRelayOptions(['cloud'])))?.message, /missing required argument 'network'/);
  t.match((await userErrorOf(() => parseRelayOptions(['cloud', 'nosuch'])))?.message, /unknown network 'nosuch'/);
  t.match((await userErrorOf(() => parseRelayOptions(['cloud', 'lenet', '--next-port', '0'])))?.message, /--next-port must be between 1 and 65535/);
  t.match((await userErrorOf(() => parseRelayOptions(['cloud', 'lenet', '--give-up', '0'])))?.message, /--give-up and --timeout must be positive durations/);
});

t.test('dnn-cut: defaults and --json', async (t) => {
  t.same(parseCutOptions(['vgg16']), { network: 'vgg16', json: false, verify: false, backend: 'auto', threads: undefined, seed: 1, inputShape: undefined });
  t.match(parseCutOptions(['vgg16', '--json', '--seed', '7']), { json: true, seed: 7 });
});

t.test('dnn-report: defaults, repeatable --legacy, and no input', async (t) => {
  t.same(parseReportOptions(['a.hdr', 'b.hdr']), { files: ['a.hdr', 'b.hdr'], format: 'table', metric: 'p50', minGain: 0.05, confidence: 0.95, hindsightWindow: 5, legacy: [], check: false });
  const o = parseReportOptions(['--legacy', 'x', '--legacy', 'y', '--format', 'html', '--condition', 'net=10;ecpu=50', '--min-gain', '0.1']);
  t.same(o.legacy, ['x', 'y']);
  t.same([...o.condition!], [['net', '10'], ['ecpu', '50']]);
  t.equal(o.minGain, 0.1);
  t.match((await userErrorOf(() => parseReportOptions([])))?.message, /no input: give results files/);
  t.match((await userErrorOf(() => parseReportOptions(['a.hdr', '--min-gain', '-1'])))?.message, /--min-gain must be a non-negative fraction/);
  t.equal(parseReportOptions(['a.hdr', '--hindsight-window', '2.5']).hindsightWindow, 2.5);
  for (const bad of ['0', '-1', 'abc', '']) {
    t.match((await userErrorOf(() => parseReportOptions(['a.hdr', '--hindsight-window', bad])))?.message, /^--hindsight-window must be a positive number of seconds/, `--hindsight-window '${bad}'`);
  }
  t.match((await userErrorOf(() => parseReportOptions(['a.hdr', '--condition', 'speed=3'])))?.message, /--condition: 'speed=3' is not key=value with a key among net, delay/);
});

t.test('--help is a HelpRequested carrying the usage text, for every command', async (t) => {
  for (const [name, parse] of [['dnn-cloud', parseCloudOptions], ['dnn-relay', parseRelayOptions], ['dnn-cut', parseCutOptions], ['dnn-report', parseReportOptions]] as const) {
    let caught: unknown;
    try {
      parse(['--help']);
    } catch (e) {
      caught = e;
    }
    t.ok(caught instanceof HelpRequested, name);
    t.match((caught as HelpRequested).text, new RegExp(`^Usage: ${name} `), name);
  }
});
