import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { NO_CONDITION } from '../../src/conditions/condition.js';
import { ProfileCells, profileFromFiles } from '../../src/edge/adaptive/profile.js';
import type { CutPoint } from '../../src/model/partition.js';
import { ResultsWriter } from '../../src/results/log-writer.js';
import { cellHistograms, sampleMeta } from '../helpers/results.js';

/**
 * The adaptive run fits its model on the profile cells it holds, not on the results file read
 * back: both must give the same model. Cells follow a known link (transfer grows with the bytes
 * over the rate), written through a real ResultsWriter.
 */
const CUTS = ['input', 'mid', 'out'];
const dir = mkdtempSync(path.join(tmpdir(), 'dnn-profile-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

t.test('the model fitted in memory is the one fitted on the file', async (t) => {
  const meta = sampleMeta('known', CUTS);
  meta.cuts = [
    { index: 1, layer: 'input', shape: [3, 100, 100], bytes: 120_000 },
    { index: 2, layer: 'mid', shape: [16, 25, 25], bytes: 40_000 },
    { index: 3, layer: 'out', shape: [10], bytes: 40 },
  ];
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

  const held = cells.model('known', points);
  const read = profileFromFiles([file], 'known');
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
  t.throws(() => profileFromFiles([file], 'known'), /--profile: no results of known in/);
  const cells = new ProfileCells({ appendCell: async () => undefined });
  t.throws(() => cells.model('known', []), /--profile: no cost model for known/);
});
