import t from 'tap';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runBin } from '../helpers/cli.js';

t.test('dnn-edge: bad flags get one clear line and exit 2, before anything is changed', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'dnn-edge-args-'));
  await writeFile(path.join(dir, 'bad.conditions'), 'net=10;ecpu=50\nnet=fast\n');
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
  ];
  for (const [args, re] of cases) {
    const r = await runBin('dnn-edge', args);
    t.equal(r.exitCode, 2, `exit 2 for ${args.slice(2).join(' ')}`);
    t.match(String(r.stderr), re, args.slice(2).join(' '));
    t.notMatch(String(r.stderr), /\n\s+at /, 'no stack trace');
  }
});
