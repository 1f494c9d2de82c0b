// dnn-edge's wire flags (--codec, --input-codec, --inputs, --preprocess): every bad value is one line
// and exit 2 before anything starts (no root, no cloud); the defaults are what runs did before.
import t from 'tap';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FIXTURES, runBin } from '../helpers/cli.js';
import { checkInputFiles } from '../../src/edge/preflight.js';
import { userErrorOf } from '../helpers/user-error.js';
import { parseEdgeOptions } from '../../src/cli/edge-options.js';
import sharp from 'sharp';

const dir = await mkdtemp(path.join(tmpdir(), 'dnn-edge-codec-args-'));
const TRACE = path.join(FIXTURES, 'traces/norway_train_11.txt');

t.test('bad wire flags: one clear line, exit 2', async (t) => {
  const cases: [string[], RegExp][] = [
    [['--codec', 'snappy'], /--codec: unknown codec 'snappy'; known codecs: f32, f16, int8, int8-ch, lz4/],
    [['--codec', 'f16,,int8'], /--codec: an empty codec name in 'f16,,int8'/],
    [['--input-codec', 'gif'], /--input-codec: unknown input codec 'gif'; use raw-f32/],
    [['--input-codec', 'jpeg:101'], /--input-codec: quality of 'jpeg:101' must be an integer from 1 to 100/],
    [['--input-codec', 'webp:0'], /quality of 'webp:0' must be an integer from 1 to 100/],
    [['--input-codec', 'png:50'], /png takes no quality/],
    [['--inputs', path.join(dir, 'nope.jpg')], /--inputs: '.*nope\.jpg' does not exist/],
    [['--preprocess', 'imagenet'], /--preprocess: unknown mode 'imagenet'; use one of tf/],
    [['--inputs', 'random', '--input-codec', 'raw-f32,jpeg:90'], /--input-codec jpeg:90 encodes camera frames: it needs image inputs .* not --inputs random/],
    [['--inputs', 'random', '--preprocess', 'tf'], /--preprocess turns camera frames into model inputs: --inputs random has none/],
    [['--max-agreement-loss', '2', '--codec', 'f32,int8'], /--max-agreement-loss needs --trace FILE: a sweep measures every \(point, codec\) arm, and dnn-report applies the budget/],
    [['--trace', TRACE, '--max-agreement-loss', '2'], /--max-agreement-loss judges encoded arms: give --codec and\/or --input-codec with a codec other than f32/],
    [['--trace', TRACE, '--codec', 'f32,int8', '--max-agreement-loss', 'lots'], /--max-agreement-loss must be a number of percentage points between 0 and 100/],
    [['--trace', TRACE, '--codec', 'f32,int8', '--max-agreement-loss', '101'], /--max-agreement-loss must be a number of percentage points between 0 and 100/],
    [['--trace', TRACE, '--inputs', 'random', '--input-codec', 'jpeg:90'], /--input-codec jpeg:90 encodes camera frames: it needs image inputs/],
  ];
  for (const [flags, re] of cases) {
    const e = await userErrorOf(() => parseEdgeOptions(['127.0.0.1', 'lenet', ...flags]));
    t.equal(e?.exitCode, 2, `exit 2 for ${flags.join(' ')}`);
    t.match(e?.message, re, flags.join(' '));
    t.notMatch(e?.message ?? '', /\n/, 'one line');
  }
});

t.test('the real command: a bad codec stops it with exit 2 and one line, before it connects anywhere', async (t) => {
  // port 9 (discard) on loopback: were the flags accepted, the run would try to connect and wait.
  // One spawn (~2 s of CPU each): every other bad flag is refused by the same parser, in process above
  for (const flags of [['--codec', 'f32,snappy']]) {
    const r = await runBin('dnn-edge', ['127.0.0.1', 'lenet', '--port', '9', '--no-shape', '--give-up', '1s', ...flags], { timeout: 60_000 });
    t.equal(r.exitCode, 2, flags.join(' '));
    t.equal(String(r.stderr).trim().split('\n').length, 1, `one line: ${String(r.stderr).trim()}`);
  }
});

t.test('the real command: an image file that is not one, or too small for the model, stops it before it starts', async (t) => {
  const text = path.join(dir, 'notes.png');
  await writeFile(text, 'not an image at all');
  const tiny = path.join(dir, 'tiny.png');
  await sharp({ create: { width: 10, height: 10, channels: 3, background: { r: 9, g: 9, b: 9 } } }).png().toFile(tiny);
  // in process, what dnn-edge checks before it starts (src/edge/preflight.ts); one of them as the real command
  for (const [file, re] of [[text, /notes\.png/], [tiny, /tiny\.png' is 10x10, smaller than the model input 28x28/]] as const) {
    const e = await userErrorOf(() => checkInputFiles(parseEdgeOptions(['127.0.0.1', 'lenet', '--inputs', file])));
    t.equal(e?.exitCode, 2, path.basename(file));
    t.match(e?.message, re);
    t.notMatch(e?.message ?? '', /\n/, 'one line');
  }
  for (const [file, re] of [[tiny, /tiny\.png' is 10x10, smaller than the model input 28x28/]] as const) {
    const r = await runBin('dnn-edge', ['127.0.0.1', 'lenet', '--port', '9', '--no-shape', '--give-up', '1s', '--inputs', file], { timeout: 60_000 });
    t.equal(r.exitCode, 2, path.basename(file));
    t.match(String(r.stderr), re);
    t.equal(String(r.stderr).trim().split('\n').length, 1, `one line: ${String(r.stderr).trim()}`);
  }
});

t.test('defaults: f32 everywhere, the shipped photographs; lists as given', async (t) => {
  const o = parseEdgeOptions(['127.0.0.1', 'lenet']);
  t.same(o.codecs!.map((c) => c.name), ['f32']);
  t.same(o.inputCodecs!.map((c) => c.label), ['f32']);
  t.equal(o.inputs, undefined, 'no --inputs: the shipped photographs');
  const w = parseEdgeOptions(['127.0.0.1', 'lenet', '--codec', 'f32,f16,int8+lz4', '--input-codec', 'raw-f32,jpeg,u8,webp:75', '--preprocess', 'raw']);
  t.same(w.codecs!.map((c) => c.name), ['f32', 'f16', 'int8+lz4']);
  t.same(w.inputCodecs!.map((c) => c.label), ['f32', 'jpeg:90', 'u8', 'webp:75']);
  t.equal(w.preprocess, 'raw');
  const photo = path.join(dir, 'a.png');
  await writeFile(photo, 'not really a png');
  t.same(parseEdgeOptions(['127.0.0.1', 'lenet', '--inputs', photo, dir]).inputs, [photo, dir], 'files and folders, as given');
  t.same(parseEdgeOptions(['lab', 'lenet', '--inputs', 'random']).inputs, ['random']);
});

t.test('--trace with codecs: the policies choose (point, codec) arms within the budget', async (t) => {
  const o = parseEdgeOptions(['lab', 'lenet', '--trace', TRACE, '--codec', 'f32,int8', '--input-codec', 'raw-f32,jpeg:90', '--inputs', dir, '--preprocess', 'raw']);
  t.same(o.codecs!.map((c) => c.name), ['f32', 'int8']);
  t.same(o.inputCodecs!.map((c) => c.label), ['f32', 'jpeg:90']);
  t.equal(o.trace!.maxAgreementLoss, 1, 'the default budget: 1 point of top-1 agreement, as dnn-report');
  t.same(o.inputs, [dir]);
  t.equal(o.preprocess, 'raw');
  t.equal(parseEdgeOptions(['lab', 'lenet', '--trace', TRACE, '--input-codec', 'raw-f32,u8', '--max-agreement-loss', '2.5']).trace!.maxAgreementLoss, 2.5);
  t.equal(parseEdgeOptions(['lab', 'lenet', '--trace', TRACE]).trace!.maxAgreementLoss, 1, 'f32 alone: the budget has nothing to judge, and is not refused when not given');
});
