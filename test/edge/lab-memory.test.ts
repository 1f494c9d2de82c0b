import t from 'tap';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runBin } from '../helpers/cli.js';
import { NEEDS_ROOT } from '../conditions/helpers.js';
import { resultsOf } from '../helpers/results.js';

/**
 * The lab under memory stress, in a file of its own: filling the machine's memory takes most of
 * its time, and tap runs files two at a time, so it runs beside the other lab tests, not after them.
 */

t.test('100 % edge memory stress leaves the benchmark alive', { skip: NEEDS_ROOT }, async (t) => {
  const out = await mkdtemp(path.join(tmpdir(), 'dnn-lab-mem-'));
  const r = await runBin('dnn-edge', ['lab', 'lenet', '--cuts', '0,activation_4', '--net', 'none', '--edge-cpu', '0', '--edge-mem', '100', '--cloud-cpu', '0', '--cloud-mem', '0', '--reference-every', '0', '--reps', '3', '--out', out], {
    timeout: 300_000,
  });
  t.equal(r.exitCode, 0, String(r.stderr));
  const { parsed } = await resultsOf(out);
  t.equal(parsed.cells.length, 2 * 4);
  t.ok(parsed.cells.every((c) => c.tag.condition.emem === 100 && c.histogram.totalCount === 3));
});
