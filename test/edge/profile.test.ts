// test-process: shared (pure: no backend, environment, signal handlers or children; see test/run-shared.ts)
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { NO_CONDITION } from '../../src/conditions/condition.js';
import { ProfileCells, armsWithinBudget, profileFromFiles } from '../../src/edge/adaptive/profile.js';
import { F32_WIRE, armName, tensorWire, type Arm } from '../../src/edge/arms.js';
import { CODECS } from '../../src/codecs/index.js';
import { userErrorOf } from '../helpers/user-error.js';
import type { CutPoint } from '../../src/model/partition.js';
import { ResultsWriter } from '../../src/results/log-writer.js';
import { cellHistograms, sampleMeta } from '../helpers/results.js';

/**
 * The adaptive run fits its model on the profile cells it holds, not on the results file read
 * back: both must give the same model. Cells follow a known link (transfer grows with the bytes
 * over the rate), written through a real ResultsWriter.
 */
const CUTS = ['input', 'mid', 'out'];
const KNOWN_CUTS = [
  { index: 1, layer: 'input', shape: [3, 100, 100], bytes: 120_000 },
  { index: 2, layer: 'mid', shape: [16, 25, 25], bytes: 40_000 },
  { index: 3, layer: 'out', shape: [10], bytes: 40 },
];
const dir = mkdtempSync(path.join(tmpdir(), 'dnn-profile-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

t.test('the model fitted in memory is the one fitted on the file', async (t) => {
  const meta = sampleMeta('known', CUTS);
  meta.cuts = KNOWN_CUTS.map((c) => ({ ...c }));
  const points = meta.cuts.map((c) => ({ ...c, kind: 'layer', edgeParams: 0 }) as unknown as CutPoint);
  const file = path.join(dir, 'profile.hdr');
  const writer = await ResultsWriter.create(file, meta);
  const cells = new ProfileCells(writer);
  const edge = [0.1, 5, 9];
  const cloud = [6, 2, 0];
  for (const net of [5, 20]) {
    for (const [i, c] of meta.cuts.entries()) {
      const transfer = cloud[i] === 0 ? 0 : 0.4 + (c.bytes * 8) / (net * 1000);
      const h = cellHistograms({ edge: edge[i]!, transfer, cloud: cloud[i]!, total: edge[i]! + transfer + cloud[i]! });
      await cells.appendCell({ ...NO_CONDITION, net }, c.layer, h, 1000, 2000);
      for (const x of Object.values(h)) x.destroy(); // as the sweep does once a cell is written
    }
  }
  // a reference re-measurement is written, but it is not a cell of the profile
  await cells.appendCell({ ...NO_CONDITION, net: 5 }, 'mid', cellHistograms({ edge: 50, transfer: 50, cloud: 50, total: 150 }), 3000, 4000, 1);
  await writer.close();

  const arms = points.map((cut) => ({ cut, codec: F32_WIRE }));
  const held = cells.model('known', arms);
  const read = profileFromFiles([file], 'known', { arms: new Map(arms.map((a) => [armName(a), a])), maxLoss: 1, log: () => undefined });
  t.same(held.cuts, read.cuts, 'the same points');
  t.equal(held.beta, read.beta, `rate factor ${held.beta}`);
  t.equal(held.gamma, read.gamma);
  t.same([...held.wire], [...read.wire], 'the same wire bytes (from the tensor shapes)');
  t.same([...held.local], [...read.local], 'the same local (edge-only) points');
  t.same([...held.stress.keys()], [...read.stress.keys()]);
  for (const [k, f] of held.stress) {
    const g = read.stress.get(k)!;
    t.same([...f.edge], [...g.edge], `edge times at ${k}`);
    t.same([...f.cloud], [...g.cloud], `cloud times at ${k}`);
    t.same([...f.fixed], [...g.fixed], `fixed transfer at ${k}`);
  }
});

t.test('a profile without the network is a user error, and so is one without cells', async (t) => {
  const meta = sampleMeta('other', CUTS);
  const file = path.join(dir, 'other.hdr');
  const writer = await ResultsWriter.create(file, meta);
  await writer.appendCell({ ...NO_CONDITION, net: 5 }, 'mid', cellHistograms({ edge: 1, transfer: 1, cloud: 1, total: 3 }), 1000, 2000);
  await writer.close();
  t.throws(() => profileFromFiles([file], 'known', { arms: new Map(), maxLoss: 1, log: () => undefined }), /--profile: no results of known in/);
  const cells = new ProfileCells({ appendCell: async () => undefined });
  t.throws(() => cells.model('known', []), /--profile: no cost model for known/);
});

/**
 * A profile with codecs: mid is also measured with f16 and int8, the metadata's fidelity records
 * int8 losing 3 points of top-1 agreement; the run's --codec selects among the file's arms and the
 * budget among those (as dnn-report judges them).
 */
t.test('--profile with codecs: the run\'s codecs select the arms, the files\' fidelity records judge them', async (t) => {
  const meta = sampleMeta('coded', CUTS);
  meta.cuts = KNOWN_CUTS.map((c) => ({ ...c }));
  const record = (codec: string, top1: number) => ({ cut: 'mid', codec, bytes: 10_000, ratio: 0.25, encode_ms: 0.2, decode_ms: 0.1, max_abs_diff: 0.01, rel_l2: 0.01, top1_agreement: top1, top5_agreement: 1, inputs: 100 });
  meta.fidelity = [record('int8', 0.97), record('f16', 1)];
  const file = path.join(dir, 'coded.hdr');
  const writer = await ResultsWriter.create(file, meta);
  const arms: [string, string | undefined, number][] = [['input', undefined, 120_000], ['mid', undefined, 40_000], ['mid', 'f16', 20_000], ['mid', 'int8', 10_000], ['out', undefined, 0]];
  for (const net of [5, 20]) {
    for (const [cut, codec, bytes] of arms) {
      const cloud = cut === 'out' ? 0 : 2;
      const transfer = cloud === 0 ? 0 : 0.4 + (bytes * 8) / (net * 1000);
      const h = cellHistograms({ edge: cut === 'input' ? 0.1 : 5, transfer, cloud, total: 5 + transfer + cloud }, 20, { encode: codec ? 0.3 : 0, decode: codec ? 0.2 : 0, bytes });
      await writer.appendCell({ ...NO_CONDITION, net }, cut, h, 1000, 2000, undefined, codec);
    }
  }
  await writer.close();
  const points = meta.cuts.map((c) => ({ ...c, kind: 'layer', edgeParams: 0 }) as unknown as CutPoint);
  const runArms = (codecs: string[]): Map<string, Arm> => {
    const inner = codecs.map((c) => tensorWire(CODECS.get(c)!, 'nhwc'));
    const list = points.flatMap((cut) => (cut.layer === 'mid' ? inner : [F32_WIRE]).map((codec) => ({ cut, codec })));
    return new Map(list.map((a) => [armName(a), a]));
  };
  const lines: string[] = [];
  const log = (l: string) => lines.push(l);
  const judged = profileFromFiles([file], 'coded', { arms: runArms(['f32', 'f16', 'int8']), maxLoss: 1, log });
  t.same(judged.cuts.map((c) => c.cut), ['input', 'mid', 'mid@f16', 'out'], 'int8 is over the budget of 1 point');
  t.match(lines.join('\n'), /fidelity budget \(--max-agreement-loss 1\): the policies leave out mid@int8 \(3\.0 points lost\)/);
  t.ok(judged.stress.values().next().value!.encode.get('mid@f16')! > 0, 'the encoded arm keeps its encode time');
  const loose = profileFromFiles([file], 'coded', { arms: runArms(['f32', 'f16', 'int8']), maxLoss: 5, log });
  t.ok(loose.cuts.some((c) => c.cut === 'mid@int8'), 'a budget of 5 points admits int8');
  lines.length = 0;
  const f32 = profileFromFiles([file], 'coded', { arms: runArms(['f32']), maxLoss: 1, log });
  t.same(f32.cuts.map((c) => c.cut), ['input', 'mid', 'out'], 'a run without codecs uses the f32 arms');
  t.match(lines[0], /--profile: left out 2 arm\(s\) whose codec this run does not send \(mid@f16, mid@int8\)/);
  const elsewhere = new Map([...runArms(['f32'])].filter(([k]) => k !== 'mid'));
  const e = await userErrorOf(() => profileFromFiles([file], 'coded', { arms: elsewhere, maxLoss: 1, log }));
  t.match(e?.message, /--profile: coded in .* has point mid, which this coded does not have/);
  t.notMatch(e?.message ?? '', /\n/, 'one line');
});

t.test('before a profile sweep: the measured fidelity leaves out arms over the budget and lossy ones without a record', async (t) => {
  const mid = { index: 2, layer: 'mid', shape: [16, 25, 25], bytes: 40_000, kind: 'layer' } as unknown as CutPoint;
  const arms: Arm[] = ['f32', 'lz4', 'f16', 'int8'].map((c) => ({ cut: mid, codec: c === 'f32' ? F32_WIRE : tensorWire(CODECS.get(c)!, 'nhwc') }));
  const lines: string[] = [];
  const record = { cut: 'mid', codec: 'int8', bytes: 10_000, ratio: 0.25, encode_ms: 0.2, decode_ms: 0.1, max_abs_diff: 0.01, rel_l2: 0.01, top1_agreement: 0.995, top5_agreement: 1, inputs: 200 };
  const kept = armsWithinBudget('coded', arms, [record], 1, (l) => lines.push(l));
  t.same(kept.map(armName), ['mid', 'mid@lz4', 'mid@int8'], 'f32 and lossless lz4 always, int8 within 1 point (0.5 lost)');
  t.match(lines[0], /leave out mid@f16 \(no fidelity recorded\)/);
  t.same(armsWithinBudget('coded', arms, [record], 0.1, () => undefined).map(armName), ['mid', 'mid@lz4'], 'a tighter budget drops int8 too');
});
