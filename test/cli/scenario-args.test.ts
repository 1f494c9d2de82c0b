// test-process: shared (pure: no backend, environment, signal handlers or children; see test/run-shared.ts)
// dnn-edge --scenario and --in-flight: parsed, defaulted, and every mistake one line (exit 2), in process.
import t from 'tap';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseEdgeOptions } from '../../src/cli/edge-options.js';
import { userErrorOf } from '../helpers/user-error.js';

const base = ['lab', 'lenet', '--no-shape'];

t.test('defaults: single, 4 in flight', async (t) => {
  const o = parseEdgeOptions(base);
  t.same(o.scenario, { kind: 'single' });
  t.equal(o.inFlight, 4);
});

t.test('scenarios and --in-flight as given', async (t) => {
  t.same(parseEdgeOptions([...base, '--scenario', 'stream:15']).scenario, { kind: 'stream', fps: 15 });
  t.same(parseEdgeOptions([...base, '--scenario', 'server:20']).scenario, { kind: 'server', rate: 20 });
  const o = parseEdgeOptions([...base, '--scenario', 'max', '--in-flight', '8', '--reps', '200']);
  t.same(o.scenario, { kind: 'max' });
  t.equal(o.inFlight, 8);
  t.equal(o.reps, 200, '--reps: frames offered per cell');
});

t.test('every mistake is one line naming the flag', async (t) => {
  const cases: [string[], RegExp][] = [
    [['--scenario', 'video'], /^--scenario must be single, stream:FPS .*got 'video'$/],
    [['--scenario', 'stream:0'], /^--scenario stream:0: the frame rate must be a number above 0/],
    [['--scenario', 'server:x'], /^--scenario server:x: the arrival rate must be/],
    [['--scenario', 'max', '--in-flight', '0'], /^--in-flight must be between 1 and 64, got 0$/],
    [['--scenario', 'max', '--in-flight', '2.5'], /^--in-flight must be an integer/],
    [['--in-flight', '2'], /^--in-flight caps frames in flight: it needs --scenario stream:FPS, server:RATE or max$/],
    [['--scenario', 'max', '--quick'], /^--quick is a first look at single requests/],
  ];
  for (const [args, re] of cases) {
    const e = await userErrorOf(() => parseEdgeOptions([...base, ...args]));
    t.match(e?.message, re, args.join(' '));
    t.notMatch(e?.message ?? "", /\n/, 'one line');
  }
});

t.test('--trace takes a camera: stream:FPS becomes its camera; server, max and --interval are refused', async (t) => {
  const trace = path.join(await mkdtemp(path.join(tmpdir(), 'scenario-args-')), 'steps.trace');
  await writeFile(trace, 't=0;net=50\nt=1;net=10\n');
  const withTrace = ['lab', 'lenet', '--trace', trace];
  t.same(parseEdgeOptions([...withTrace, '--scenario', 'stream:15', '--in-flight', '2']).trace?.camera, { fps: 15, inFlight: 2 });
  t.equal(parseEdgeOptions(withTrace).trace?.camera, undefined, 'no camera by default');
  t.match((await userErrorOf(() => parseEdgeOptions([...withTrace, '--scenario', 'max'])))?.message, /^--trace replays a trace under a camera: --scenario stream:FPS \(e\.g\. stream:15\), not max$/);
  t.match((await userErrorOf(() => parseEdgeOptions([...withTrace, '--scenario', 'stream:15', '--interval', '50'])))?.message, /^--interval sets a request rate, --scenario stream:FPS a camera's frame rate: give one of them$/);
});
