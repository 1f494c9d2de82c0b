import t from 'tap';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runBin } from '../helpers/cli.js';
import { NEEDS_ROOT } from '../helpers/root.js';
import { resultsOf } from '../helpers/results.js';

/**
 * The lab under full memory stress. The edge device gets a 1 GiB memory limit, so 100 % is 1 GiB
 * (P % of what the end may use) and the edge's own process shares that limit with the stressor:
 * the kernel's OOM killer acts inside the device, which must pick the stressor, never the benchmark.
 * (Filling the whole machine instead, 21 GB here, took 40-70 s of the suite for the same check;
 * stress.serial.test covers P % of MemAvailable.)
 */

t.test('100 % edge memory stress inside a 1 GiB edge device leaves the benchmark alive', { skip: NEEDS_ROOT }, async (t) => {
  const out = await mkdtemp(path.join(tmpdir(), 'dnn-lab-mem-'));
  const r = await runBin('dnn-edge', ['lab', 'lenet', '--cuts', '0,activation_4', '--net', 'none', '--edge-memory', '1GiB', '--edge-cpu', '0', '--edge-mem', '100', '--cloud-cpu', '0', '--cloud-mem', '0', '--reference-every', '0', '--reps', '3', '--out', out], {
    timeout: 300_000,
  });
  t.equal(r.exitCode, 0, String(r.stderr));
  t.match(String(r.stderr), /edge device: CPU \d+, 1024 MiB memory/);
  const { parsed } = await resultsOf(out);
  t.equal(parsed.cells.length, 2 * 4);
  t.ok(parsed.cells.every((c) => c.tag.condition.emem === 100 && c.histogram.totalCount === 3), 'every sample measured under the stress');
  t.match(parsed.meta!.conditions!.devices, { edge: { memory_bytes: 2 ** 30 } }, 'the edge\'s memory limit is in the metadata');
});
