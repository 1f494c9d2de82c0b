// test-lane: full (edge and cloud processes end to end: too slow for `npm run test:unit`)
// A run with f32 alone writes the cells it wrote before codecs and inputs existed: the same tags, in
// the same order, the same 4 metrics per cell (the fixture was written by v0.1.0 with the same flags),
// with the seeded random input (--inputs random: no `inputs` in the metadata either) and with the
// shipped photographs (the default: the metadata says so, the cells are the same).
import t from 'tap';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FIXTURES, runBin } from '../helpers/cli.js';
import { startCloud, stopCloud } from '../helpers/cloud-process.js';
import { readResultsFile } from '../../src/results/log-reader.js';

/** the fixture's flags (see its command_line), on a cloud of this run */
const FLAGS = ['--net', 'none', '--edge-cpu', '0', '--edge-mem', '0', '--cloud-cpu', '0', '--cloud-mem', '0', '--reps', '3'];

/** The tag of every histogram line, in file order; the reference cell's point is the fastest as measured, so it is left out. */
async function tags(file: string): Promise<string[]> {
  const text = await readFile(file, 'utf8');
  return text
    .split('\n')
    .filter((l) => l.startsWith('Tag='))
    .map((l) => l.slice(4, l.indexOf(',')).replace(/;cut=[^;]+(;metric=\w+;ref=\d+)$/, ';cut=*$1'));
}

const cloud = await startCloud('lenet');
t.teardown(() => stopCloud(cloud));
const want = await tags(path.join(FIXTURES, 'results/lenet-grid-v0.1.0.hdr'));

for (const [what, extra] of [['--inputs random', ['--inputs', 'random']], ['the shipped photographs (default)', []]] as const) {
  t.test(`f32 with ${what}: the cells of v0.1.0, tag for tag`, async (t) => {
    const out = await mkdtemp(path.join(tmpdir(), 'dnn-edge-f32-'));
    const r = await runBin('dnn-edge', ['127.0.0.1', 'lenet', '--port', String(cloud.port), '--out', out, ...FLAGS, ...extra]);
    t.equal(r.exitCode, 0, String(r.stderr));
    const [name] = await readdir(out);
    const file = path.join(out, name!);
    t.same(await tags(file), want, 'the same tags in the same order: no codec=, no encode/decode/bytes');
    const meta = readResultsFile(file).meta!;
    t.equal(meta.codecs, undefined, 'no codecs in the metadata');
    if (extra.length > 0) t.equal(meta.inputs, undefined, 'random input: no inputs in the metadata, as before');
    else t.match(meta.inputs, { kind: 'images', frames: 7, preprocess: 'unit', layout: 'nhwc' });
  });
}
