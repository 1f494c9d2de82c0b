// test-process: shared (pure: no backend, environment, signal handlers or children; see test/run-shared.ts)
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CODEC_IDS } from '../../src/protocol/codecs.js';
import { decodeFrame, encodeFrame, loadFrames, parseInputCodecList, parseInputs, type Frame, type InputCodec } from '../../src/inputs/index.js';
import { oneLineUserError } from '../helpers/user-error.js';

const SIZE = { height: 224, width: 224 };
const frames = await loadFrames(parseInputs(undefined), SIZE);
const codec = (label: string): InputCodec => parseInputCodecList(label)[0]!;

function meanAbs(a: Uint8Array, b: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i]! - b[i]!);
  return s / a.length;
}

t.test('parseInputCodecList: labels, ids, default qualities', async (t) => {
  t.same(parseInputCodecList('raw-f32,u8,jpeg:90,png,webp:80'), [
    { name: 'f32', label: 'f32', id: CODEC_IDS.raw },
    { name: 'u8', label: 'u8', id: CODEC_IDS.u8 },
    { name: 'jpeg', quality: 90, label: 'jpeg:90', id: CODEC_IDS.jpeg },
    { name: 'png', label: 'png', id: CODEC_IDS.png },
    { name: 'webp', quality: 80, label: 'webp:80', id: CODEC_IDS.webp },
  ]);
  t.same(parseInputCodecList('f32').map((c) => c.label), ['f32']);
  t.same(parseInputCodecList(' jpeg , webp ').map((c) => c.label), ['jpeg:90', 'webp:80'], 'default qualities');
  t.same(parseInputCodecList('jpeg:1,jpeg:100,webp:50').map((c) => c.label), ['jpeg:1', 'jpeg:100', 'webp:50']);
});


t.test('parseInputCodecList: unknown names, bad qualities, repeats are one-line UserErrors naming them', async (t) => {
  t.match(await oneLineUserError(t, () => parseInputCodecList('gif')), /^--input-codec: unknown input codec 'gif'; use raw-f32 \(or f32\), u8, jpeg\[:Q\], png or webp\[:Q\] with Q 1-100$/);
  t.match(await oneLineUserError(t, () => parseInputCodecList('jpeg:0')), "--input-codec: quality of 'jpeg:0' must be an integer from 1 to 100");
  t.match(await oneLineUserError(t, () => parseInputCodecList('jpeg:101')), "quality of 'jpeg:101'");
  t.match(await oneLineUserError(t, () => parseInputCodecList('webp:high')), "quality of 'webp:high'");
  t.match(await oneLineUserError(t, () => parseInputCodecList('jpeg:9.5')), "quality of 'jpeg:9.5'");
  t.match(await oneLineUserError(t, () => parseInputCodecList('png:9')), "png takes no quality (got 'png:9')");
  t.match(await oneLineUserError(t, () => parseInputCodecList('jpeg:90:1')), "unknown input codec 'jpeg:90:1'");
  t.match(await oneLineUserError(t, () => parseInputCodecList('f32,raw-f32')), '--input-codec lists f32 twice');
  t.match(await oneLineUserError(t, () => parseInputCodecList('jpeg,,png')), '--input-codec: empty item');
  t.match(await oneLineUserError(t, () => parseInputCodecList('f16')), "unknown input codec 'f16'");
});

t.test('u8 and png round-trip exactly; u8 sends the frame bytes themselves', async (t) => {
  for (const f of frames) {
    const u8 = await encodeFrame(f, codec('u8'));
    t.equal(u8, f.rgb, `${f.source}: u8 is the frame's own buffer`);
    const back = await decodeFrame(u8, CODEC_IDS.u8, SIZE);
    t.equal(back.rgb, u8, 'decoded without a copy');
    const png = await encodeFrame(f, codec('png'));
    t.ok(png.length < f.rgb.length, `${f.source}: png ${png.length} bytes < ${f.rgb.length}`);
    const pngBack = await decodeFrame(png, codec('png'), SIZE);
    t.ok(Buffer.from(pngBack.rgb).equals(Buffer.from(f.rgb)), `${f.source}: png round trip is exact`);
  }
});

t.test('jpeg:90 and webp:80 round trips are close; lower quality, fewer bytes', async (t) => {
  for (const f of frames) {
    const sizes: number[] = [];
    for (const label of ['jpeg:90', 'webp:80', 'jpeg:50']) {
      const bytes = await encodeFrame(f, codec(label));
      sizes.push(bytes.length);
      const back = await decodeFrame(bytes, codec(label), SIZE);
      const err = meanAbs(back.rgb, f.rgb);
      t.ok(err < (label === 'jpeg:50' ? 8 : 5), `${f.source} ${label}: ${bytes.length} bytes, mean abs error ${err.toFixed(2)}`);
      t.ok(err > 0, `${label} is lossy`);
    }
    t.ok(sizes[2]! < sizes[0]!, `${f.source}: jpeg:50 (${sizes[2]}) < jpeg:90 (${sizes[0]})`);
    t.ok(sizes[0]! < 40_000 && sizes[0]! > 3_000, `${f.source}: jpeg:90 ${sizes[0]} bytes (issue: 10.0-22.3 KB)`);
  }
});

t.test('decodeFrame: a frame of another size is a RangeError, f32 is not a frame codec', async (t) => {
  const f = frames[0]!;
  await t.rejects(decodeFrame(await encodeFrame(f, codec('jpeg')), codec('jpeg'), { height: 224, width: 225 }), { name: 'RangeError', message: 'jpeg frame is 224x224x3, not 225x224x3' });
  await t.rejects(decodeFrame(f.rgb.subarray(3), CODEC_IDS.u8, SIZE), { name: 'RangeError', message: /u8 frame of 150525 bytes is not 224x224x3/ });
  await t.rejects(decodeFrame(f.rgb, CODEC_IDS.raw, SIZE), RangeError);
  await t.rejects(decodeFrame(new TextEncoder().encode('not a jpeg'), CODEC_IDS.jpeg, SIZE), { name: 'RangeError', message: /^jpeg frame of 10 bytes cannot be decoded: / });
  await t.rejects(encodeFrame(f, codec('f32')), RangeError);
  const grey: Frame = { width: 4, height: 4, rgb: new Uint8Array(48).fill(77), source: 'grey' };
  const back = await decodeFrame(await encodeFrame(grey, codec('png')), CODEC_IDS.png, { height: 4, width: 4 });
  t.equal(back.rgb.length, 48, 'a grey frame still decodes to RGB');
});

/** A python3 that has Pillow, or undefined. */
function pillowPython(): string | undefined {
  for (const py of ['python3', '/usr/bin/python3']) {
    try {
      execFileSync(py, ['-c', 'import PIL'], { stdio: 'ignore' });
      return py;
    } catch {
      // not this one
    }
  }
  return undefined;
}

const python = pillowPython();
t.test('jpeg:90 bytes are within 15 % of what libjpeg (Pillow, q90, 4:2:0) makes of the same RGB frame', { skip: python ? false : 'no python3 with Pillow (PIL) here: apt-get install python3-pil' }, async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'inputs-pillow-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const files = frames.map((f, i) => {
    const file = path.join(dir, `${i}.rgb`);
    writeFileSync(file, f.rgb);
    return file;
  });
  const script = [
    'import io, sys',
    'from PIL import Image',
    'for p in sys.argv[1:]:',
    "    img = Image.frombytes('RGB', (224, 224), open(p, 'rb').read())",
    '    out = io.BytesIO()',
    "    img.save(out, 'JPEG', quality=90, subsampling=2)",
    '    print(len(out.getvalue()))',
  ].join('\n');
  const pillow = execFileSync(python!, ['-c', script, ...files], { encoding: 'utf8' }).trim().split('\n').map(Number);
  t.equal(pillow.length, frames.length);
  for (let i = 0; i < frames.length; i++) {
    const ours = (await encodeFrame(frames[i]!, codec('jpeg:90'))).length;
    const ratio = ours / pillow[i]!;
    t.ok(Math.abs(ratio - 1) <= 0.15, `${frames[i]!.source}: sharp ${ours} bytes, Pillow ${pillow[i]} bytes (${(100 * (ratio - 1)).toFixed(1)} %)`);
  }
});
