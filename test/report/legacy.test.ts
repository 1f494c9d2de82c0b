// test-process: shared (pure: no backend, environment, signal handlers or children; see test/run-shared.ts)
import t from 'tap';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NO_CONDITION } from '../../src/conditions/condition.js';
import { buildReport } from '../../src/analysis/build-report.js';
import { legacyCondition, parseLegacyLine, readLegacyDir } from '../../src/report/input/legacy.js';

const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/legacy', import.meta.url));

t.test('file names map to the published factor levels', async (t) => {
  // A network 50/25/10, B cloud CPU, C edge memory, D cloud memory, E edge CPU (0/50/100)
  t.same(legacyCondition('weights_21020.txt'), { ...NO_CONDITION, net: 10, ccpu: 50, emem: 0, cmem: 100, ecpu: 0 });
  t.same(legacyCondition('weights_00000.txt'), { ...NO_CONDITION, net: 50 });
  t.equal(legacyCondition('weights_30000.txt'), undefined);
  t.equal(legacyCondition('notes.txt'), undefined);
  t.same(parseLegacyLine('0.5 0.1 0.25 3'), {
    cut: '3',
    ordinal: 3,
    cell: {
      total: { p50: 500, p95: 500, mean: 500, samples: 1 },
      edge: { p50: 100, p95: 100, mean: 100, samples: 1 },
      cloud: { p50: 250, p95: 250, mean: 250, samples: 1 },
      transfer: { p50: 150, p95: 150, mean: 150, samples: 1 },
    },
  });
  t.match(parseLegacyLine('0.5 0.1 3'), /expected 'total edge cloud cut'/);
});

t.test('both published folders: 243 conditions, full factorial, right points', async (t) => {
  const { networks, problems } = readLegacyDir(FIXTURES);
  t.same(problems, []);
  t.same(networks.map((n) => n.network), ['alexnet', 'lenet']);
  for (const n of networks) {
    t.equal(n.conditions.length, 243, `${n.network}: 243 conditions`);
    const seen = new Set(n.conditions.map((c) => [c.condition.net, c.condition.ccpu, c.condition.emem, c.condition.cmem, c.condition.ecpu].join(',')));
    t.equal(seen.size, 243, `${n.network}: every combination once`);
    t.ok(n.conditions.every((c) => [50, 25, 10].includes(c.condition.net!) && c.condition.delay === 0 && c.condition.loss === 0), 'no delay or loss');
  }
  const [alexnet, lenet] = networks;
  t.equal(lenet!.cuts.length, 10);
  t.equal(alexnet!.cuts.length, 24);
  // weights_21020.txt, first line: 10 Mbit/s, cloud CPU 50 %, edge memory 0, cloud memory 100 %, edge CPU 0
  const line = readFileSync(join(FIXTURES, 'outputs_lenet', 'weights_21020.txt'), 'utf8').split('\n')[0]!.split(' ').map(Number);
  const c = lenet!.conditions.find((x) => x.condition.net === 10 && x.condition.ccpu === 50 && x.condition.emem === 0 && x.condition.cmem === 100 && x.condition.ecpu === 0)!;
  const cell = c.cells.get(String(line[3]))!;
  t.equal(cell.total!.p50, line[0]! * 1000);
  t.ok(Math.abs(cell.transfer!.p50 - (line[0]! - line[1]! - line[2]!) * 1000) < 1e-9);

  const report = buildReport(networks, { metric: 'p50', minGain: 0.05 });
  for (const n of report.networks) {
    t.equal(n.summary.conditions, 243);
    t.equal(n.baseline.key, 'net=50;delay=0;jitter=0;loss=0;ecpu=0;emem=0;ccpu=0;cmem=0');
    t.same(n.summary.sensitivity.map((s) => s.factor), ['net_mbit', 'edge_cpu', 'edge_mem', 'cloud_cpu', 'cloud_mem']);
    t.ok(n.summary.sensitivity.every((s) => s.pairs === 162), '81 groups x 2 pairs per factor');
  }
});

t.test('a malformed line is reported with file:line and skipped', async (t) => {
  const dir = t.testdir();
  cpSync(join(FIXTURES, 'outputs_lenet'), join(dir, 'outputs_lenet'), { recursive: true });
  const f = join(dir, 'outputs_lenet', 'weights_00012.txt');
  const lines = readFileSync(f, 'utf8').split('\n');
  lines[3] = '0.01 oops 0.002 4';
  writeFileSync(f, lines.join('\n'));
  writeFileSync(join(dir, 'outputs_lenet', 'README'), 'not data');
  const { networks, problems } = readLegacyDir(join(dir, 'outputs_lenet'));
  t.equal(networks[0]!.conditions.length, 243);
  t.equal(networks[0]!.conditions.find((c) => c.condition.ecpu === 100 && c.condition.cmem === 50)!.cells.size, 9);
  t.same(problems, [
    `${join(dir, 'outputs_lenet', 'README')}: not a weights_ABCDE.txt file (digits 0-2); skipped`,
    `${f}:4: expected 'total edge cloud cut' (3 numbers in seconds and an integer), got '0.01 oops 0.002 4'; line skipped`,
  ]);
});
