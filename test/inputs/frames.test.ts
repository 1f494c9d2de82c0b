// test-process: shared (pure: no backend, environment, signal handlers or children; see test/run-shared.ts)
import t from 'tap';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { DEFAULT_IMAGES_DIR, inputFileLabel, inputsMeta, loadFrames, parseInputs, type Frame } from '../../src/inputs/index.js';
import { ROOT } from '../helpers/cli.js';
import { oneLineUserError } from '../helpers/user-error.js';

const PHOTOS = ['astronaut.png', 'chelsea.png', 'coffee.png', 'hubble_deep_field.jpg', 'ihc.png', 'retina.jpg', 'rocket.jpg'];
const SIZE = { height: 224, width: 224 };
const hash = (f: Frame): string => createHash('sha256').update(f.rgb).digest('hex');

const dir = mkdtempSync(path.join(tmpdir(), 'inputs-frames-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

t.test('no --inputs: the seven shipped photos, sorted; each one frame at the model size', async (t) => {
  const spec = parseInputs(undefined);
  t.same(spec, { kind: 'images', paths: PHOTOS.map((p) => path.join(DEFAULT_IMAGES_DIR, p)) });
  t.same(parseInputs([]), spec);
  const frames = await loadFrames(spec, SIZE);
  t.same(frames.map((f) => f.source), PHOTOS);
  for (const f of frames) {
    t.equal(f.rgb.length, 224 * 224 * 3, `${f.source} is 224x224 RGB`);
    t.match(f, { width: 224, height: 224 });
  }
  t.equal(new Set(frames.map(hash)).size, 7, 'seven different frames');
  // not a flat image: a photograph has detail
  const rgb = frames[1]!.rgb;
  let lo = 255;
  let hi = 0;
  for (const v of rgb) (lo = Math.min(lo, v)), (hi = Math.max(hi, v));
  t.ok(hi - lo > 150, `chelsea spans ${lo}..${hi}`);
});

t.test('a frame is the centre crop resized, as sharp fit cover gives it; non-square model inputs too', async (t) => {
  const file = path.join(DEFAULT_IMAGES_DIR, 'chelsea.png');
  const [frame] = await loadFrames(parseInputs([file]), { height: 100, width: 160 });
  t.match(frame, { width: 160, height: 100, source: 'chelsea.png' });
  const direct = await sharp(file).removeAlpha().resize({ width: 160, height: 100, fit: 'cover' }).raw().toBuffer();
  let diff = 0;
  for (let i = 0; i < direct.length; i++) diff += Math.abs(direct[i]! - frame!.rgb[i]!);
  t.ok(diff / direct.length < 2, `mean abs difference to sharp's own cover resize from the file: ${(diff / direct.length).toFixed(3)}`);
});

t.test('random: seeded, deterministic, N frames with --atLeast', async (t) => {
  t.same(parseInputs(['random']), { kind: 'random' });
  const a = await loadFrames({ kind: 'random' }, { height: 8, width: 6 }, { seed: 3, atLeast: 4 });
  const b = await loadFrames({ kind: 'random' }, { height: 8, width: 6 }, { seed: 3, atLeast: 4 });
  const c = await loadFrames({ kind: 'random' }, { height: 8, width: 6 }, { seed: 4, atLeast: 4 });
  t.equal(a.length, 4);
  t.same(a.map(hash), b.map(hash), 'same seed, same frames');
  t.not(hash(a[0]!), hash(c[0]!), 'another seed, other frames');
  t.equal(new Set(a.map(hash)).size, 4);
  t.same(a.map((f) => f.source), ['random#0', 'random#1', 'random#2', 'random#3']);
  t.equal((await loadFrames({ kind: 'random' }, SIZE)).length, 1, 'one frame by default');
});

t.test('atLeast 100: crops, flips and smaller crops of the photos, all distinct, named for what they are', async (t) => {
  const frames = await loadFrames(parseInputs(undefined), SIZE, { atLeast: 100 });
  t.equal(frames.length, 100);
  t.equal(new Set(frames.map(hash)).size, 100, '100 distinct frames');
  const sources = frames.map((f) => f.source);
  t.equal(new Set(sources).size, 100, '100 distinct names');
  t.same(sources.slice(0, 7), PHOTOS, 'the photos first');
  t.equal(sources[7], 'astronaut.png#crop-tl');
  t.ok(sources.includes('chelsea.png#crop-tl-flip'));
  t.ok(sources.includes('rocket.jpg#flip'));
  t.ok(sources.some((s) => /#crop64-(tl|tr|bl|br|c)/.test(s)), 'a smaller crop scale');
  for (const f of frames) t.match(f.source, /^[a-z_]+\.(png|jpg)(#(crop\d*-(tl|tr|bl|br|c))?(-?flip)?)?$/);
  // a flip is the mirror image of its unflipped frame
  const byName = new Map(frames.map((f) => [f.source, f]));
  const plain = byName.get('chelsea.png')!;
  const flipped = byName.get('chelsea.png#flip')!;
  const w = plain.width;
  let same = true;
  for (let y = 0; y < plain.height && same; y++) {
    for (let x = 0; x < w && same; x++) {
      for (let ch = 0; ch < 3; ch++) same &&= plain.rgb[(y * w + x) * 3 + ch] === flipped.rgb[(y * w + (w - 1 - x)) * 3 + ch];
    }
  }
  t.ok(same, 'chelsea.png#flip mirrors chelsea.png');
});

t.test('a folder: its image files sorted, not its subfolders, not other files', async (t) => {
  const folder = path.join(dir, 'photos');
  mkdirSync(path.join(folder, 'nested'), { recursive: true });
  copyFileSync(path.join(DEFAULT_IMAGES_DIR, 'rocket.jpg'), path.join(folder, 'b.JPG'));
  copyFileSync(path.join(DEFAULT_IMAGES_DIR, 'coffee.png'), path.join(folder, 'a.png'));
  copyFileSync(path.join(DEFAULT_IMAGES_DIR, 'chelsea.png'), path.join(folder, 'nested', 'c.png'));
  writeFileSync(path.join(folder, 'notes.txt'), 'not a photo');
  await sharp(path.join(DEFAULT_IMAGES_DIR, 'chelsea.png')).webp().toFile(path.join(folder, 'c.webp'));
  const spec = parseInputs([folder]);
  t.same(spec, { kind: 'images', paths: ['a.png', 'b.JPG', 'c.webp'].map((n) => path.join(folder, n)) });
  t.same((await loadFrames(spec, SIZE)).map((f) => f.source), ['a.png', 'b.JPG', 'c.webp']);
});


t.test('bad inputs: one-line UserErrors naming the file, before anything is decoded', async (t) => {
  const missing = path.join(dir, 'nope.jpg');
  t.match(await oneLineUserError(t, () => parseInputs([missing])), `--inputs: '${missing}' does not exist`);
  const loop = path.join(dir, 'loop.png');
  symlinkSync(loop, loop);
  t.match(await oneLineUserError(t, () => parseInputs([loop])), `--inputs: '${loop}' cannot be read (ELOOP)`);
  const empty = path.join(dir, 'empty');
  mkdirSync(empty);
  writeFileSync(path.join(empty, 'readme.txt'), 'x');
  t.match(await oneLineUserError(t, () => parseInputs([empty])), `--inputs: folder '${empty}' has no JPEG, PNG or WebP files`);
  t.match(await oneLineUserError(t, () => parseInputs(['random', path.join(DEFAULT_IMAGES_DIR, 'rocket.jpg')])), /--inputs random takes no paths/);

  const text = path.join(dir, 'text.jpg');
  writeFileSync(text, 'this is not a JPEG');
  t.match(await oneLineUserError(t, () => loadFrames(parseInputs([text]), SIZE)), `--inputs: '${text}' is not an image (not JPEG, PNG or WebP)`);
  const truncated = path.join(dir, 'truncated.jpg');
  const jpeg = await sharp(path.join(DEFAULT_IMAGES_DIR, 'rocket.jpg')).jpeg().toBuffer();
  writeFileSync(truncated, jpeg.subarray(0, 2000));
  t.match(await oneLineUserError(t, () => loadFrames(parseInputs([truncated]), SIZE)), `--inputs: '${truncated}' cannot be decoded`);
  const tiff = path.join(dir, 'photo.tif');
  await sharp(path.join(DEFAULT_IMAGES_DIR, 'rocket.jpg')).tiff().toFile(tiff);
  t.match(await oneLineUserError(t, () => loadFrames(parseInputs([tiff]), SIZE)), `--inputs: '${tiff}' is tiff, not JPEG, PNG or WebP`);

  const small = path.join(dir, 'small.png');
  await sharp(path.join(DEFAULT_IMAGES_DIR, 'chelsea.png')).resize(200, 150).toFile(small);
  t.match(await oneLineUserError(t, () => loadFrames(parseInputs([small]), SIZE)), `--inputs: '${small}' is 200x150, smaller than the model input 224x224; use a photo of at least 224x224`);
  const chelsea = path.join(DEFAULT_IMAGES_DIR, 'chelsea.png');
  t.equal((await loadFrames(parseInputs([chelsea]), { height: 299, width: 299 })).length, 1, 'chelsea (451x300) is big enough for 299x299');
  t.match(await oneLineUserError(t, () => loadFrames(parseInputs([chelsea]), { height: 301, width: 301 })), `'${chelsea}' is 451x300, smaller than the model input 301x301`);

  if (process.getuid?.() !== 0) {
    const locked = path.join(dir, 'locked.png');
    copyFileSync(small, locked);
    chmodSync(locked, 0);
    t.match(await oneLineUserError(t, () => loadFrames(parseInputs([locked]), SIZE)), `--inputs: cannot read '${locked}' (EACCES)`);
  }
  // removed between the check and the decode
  const gone = path.join(dir, 'gone.png');
  copyFileSync(small, gone);
  const spec = parseInputs([gone]);
  rmSync(gone);
  t.match(await oneLineUserError(t, () => loadFrames(spec, SIZE)), `--inputs: cannot read '${gone}' (ENOENT)`);
});

t.test('inputsMeta: the shipped photos by their place in the package, other files as given', async (t) => {
  const spec = parseInputs(undefined);
  const frames = await loadFrames(spec, { height: 32, width: 32 }, { atLeast: 12 });
  t.same(inputsMeta(spec, frames, { mode: 'tf', layout: 'nhwc' }), {
    kind: 'images',
    files: PHOTOS.map((p) => `models/images/${p}`),
    frames: 12,
    preprocess: 'tf',
    layout: 'nhwc',
  });
  t.equal(inputFileLabel('/elsewhere/x.png'), '/elsewhere/x.png');
  t.equal(inputFileLabel('photos/x.png'), 'photos/x.png');
  const random = await loadFrames({ kind: 'random' }, { height: 4, width: 4 }, { atLeast: 3 });
  t.same(inputsMeta({ kind: 'random' }, random, { mode: 'torch', layout: 'nchw' }), { kind: 'random', files: [], frames: 3, preprocess: 'torch', layout: 'nchw' });
});

t.test("the shipped photos: in the package's models/images/, each with its licence row, under 3 MB in all", async (t) => {
  t.equal(DEFAULT_IMAGES_DIR, path.join(ROOT, 'models', 'images'));
  const licences = readFileSync(path.join(DEFAULT_IMAGES_DIR, 'LICENSES.md'), 'utf8');
  let total = 0;
  for (const p of PHOTOS) {
    t.match(licences, new RegExp(`^\\| ${p.replace('.', '\\.')} \\| \\d+x\\d+ \\|`, 'm'), `${p} has a licence row`);
    total += statSync(path.join(DEFAULT_IMAGES_DIR, p)).size;
  }
  t.ok(total < 3_000_000, `${total} bytes`);
});
