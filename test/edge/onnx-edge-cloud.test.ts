// test-lane: full (edge and cloud processes end to end: too slow for `npm run test:unit`)
import t from 'tap';
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runBin } from '../helpers/cli.js';
import { startCloud, stopCloud } from '../helpers/cloud-process.js';
import { toyModel, writeModel } from '../helpers/onnx.js';
import { readResultsFile } from '../../src/results/log-reader.js';
import { METRICS } from '../../src/results/tags.js';

/** one unshaped, unstressed condition: this is about ONNX files at both ends, not conditions */
const PLAIN = ['--no-shape', '--edge-cpu', '0', '--edge-mem', '0', '--cloud-cpu', '0', '--cloud-mem', '0', '--reference-every', '0'];

t.test('an ONNX file at both ends: every point measured over TCP, the report reads the results', async (t) => {
  const file = writeModel(toyModel(), { external: 'w1' });
  const cloud = await startCloud(file, ['--threads', '1']);
  const out = await mkdtemp(path.join(tmpdir(), 'dnn-edge-onnx-'));
  const r = await runBin('dnn-edge', ['127.0.0.1', file, '--port', String(cloud.port), '--out', out, '--reps', '2', '--threads', '1', ...PLAIN]);
  await stopCloud(cloud);
  t.equal(r.exitCode, 0, String(r.stderr));
  t.match(cloud.log(), /backend: onnx .*1 thread/);
  const [name] = await readdir(out);
  const parsed = readResultsFile(path.join(out, name!));
  t.equal(parsed.meta!.network, 'toy');
  t.same(parsed.meta!.cuts!.map((c) => [c.index, c.layer]), [[-1, 'x'], [1, 'scaled'], [2, 'conv'], [3, 'relu'], [5, 'sum'], [6, 'pool'], [7, 'y']]);
  t.equal(parsed.meta!.edge.backend, 'onnx');
  t.equal(parsed.meta!.cloud.backend, 'onnx');
  // (a drift-control re-measurement of the reference point may add cells: count distinct ones)
  t.equal(new Set(parsed.cells.map((c) => `${c.tag.cut}/${c.tag.metric}`)).size, 7 * METRICS.length, 'every point, every metric');

  const report = await runBin('dnn-report', [path.join(out, name!)]);
  t.equal(report.exitCode, 0, String(report.stderr));
  t.match(String(report.stdout), /== toy /);
  t.match(String(report.stdout), /\n\s+x\s+-1\s/, 'the graph input (index -1) is the cloud-only point');
});
