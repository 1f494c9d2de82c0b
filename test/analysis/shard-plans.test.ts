// test-lane: full (builds and checks many shard plans: ~9 s)
import t from 'tap';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NO_CONDITION, conditionKey, type Condition } from '../../src/conditions/condition.js';
import { newLatencyHistogram } from '../../src/results/log-lines.js';
import { checkFiles } from '../../src/report/input/check-files.js';
import { formatChecks } from '../../src/report/format/checks.js';
import { distributionOf, statsOf } from '../../src/analysis/histogram-stats.js';
import { loadResultFiles } from '../../src/analysis/load-results.js';
import { buildReport } from '../../src/analysis/build-report.js';
import { writeShardFiles } from '../helpers/shards.js';

const CLI = fileURLToPath(new URL('../../src/cli/report.js', import.meta.url));
function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/**
 * `dnn-report --check FILE...` in process: what src/cli/report.ts prints and its exit code (each
 * dnn-report spawn costs ~0.6 s of CPU; the first test runs the real --check once).
 */
function check(files: string[]): { code: number; stdout: string } {
  const result = checkFiles(files);
  return { code: result.complete ? 0 : 1, stdout: formatChecks(result) };
}

const conditions: Condition[] = [0, 100].flatMap((ecpu) => [50, 10].map((net) => ({ ...NO_CONDITION, net, ecpu })));
const cuts = ['input', 'conv1', 'pool1', 'conv2', 'pool2', 'dense1', 'out'];
const cells = conditions.length * cuts.length; // 28
const bounds3 = [0, 9, 19, cells];

const dir = mkdtempSync(path.join(tmpdir(), 'dnn-plans-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const sub = (name: string) => {
  const d = path.join(dir, name);
  return mkdtempSync(d + '-');
};

t.test('3 shards merge into the same analysis as one file holding every cell', async (t) => {
  const shards = writeShardFiles(sub('three'), { network: 'lenet', conditions, cuts, reps: 5, bounds: bounds3 });
  const whole = writeShardFiles(sub('one'), { network: 'lenet', conditions, cuts, reps: 5, bounds: [0, cells] });
  const check = checkFiles(shards);
  t.equal(check.plans.length, 1);
  t.equal(check.plans[0]!.present, cells, 'every cell present');
  t.equal(check.plans[0]!.missing.length, 0);
  t.equal(check.plans[0]!.duplicated.length, 0, 'and none twice');
  t.ok(check.complete);
  const opts = { metric: 'p50' as const, minGain: 0.05 };
  const a = buildReport(loadResultFiles(shards).networks, opts).networks[0]!;
  const b = buildReport(loadResultFiles(whole).networks, opts).networks[0]!;
  t.same(a.conditions, b.conditions, 'per condition: the same best point, gains and rows');
  t.same(a.summary, b.summary);
  const cli = await run(['--check', ...shards]);
  t.equal(cli.code, 0, cli.stderr);
  t.match(cli.stdout, /present 28, missing 0, duplicated 0: complete/);
});

t.test('shards on different pairs of hosts (one class of hardware) merge into one study', async (t) => {
  const files = writeShardFiles(sub('hosts'), { network: 'lenet', conditions, cuts, reps: 5, bounds: bounds3, ownHosts: true });
  const loaded = loadResultFiles(files);
  t.equal(loaded.networks.length, 1, 'one entry, not one per testbed');
  t.notMatch(loaded.problems.join('\n'), /testbeds|incomplete/);
  const whole = writeShardFiles(sub('hosts-one'), { network: 'lenet', conditions, cuts, reps: 5, bounds: [0, cells] });
  const opts = { metric: 'p50' as const, minGain: 0.05 };
  t.same(buildReport(loaded.networks, opts).networks[0]!.conditions, buildReport(loadResultFiles(whole).networks, opts).networks[0]!.conditions);
});

t.test('--check finds a deleted cell (with the shard that owes it) and a duplicated one', async (t) => {
  const gone = `${conditionKey(conditions[2]!)};cut=pool1`; // cell 16: shard 2 (cells 9..18)
  const files = writeShardFiles(sub('hole'), { network: 'lenet', conditions, cuts, reps: 5, bounds: bounds3, skip: new Set([gone]) });
  const r = check([...files]);
  t.equal(r.code, 1, 'incomplete: exit 1');
  t.match(r.stdout, /present 27, missing 1, duplicated 0: INCOMPLETE/);
  t.match(r.stdout, `missing ${gone} (shard 2/3)`);

  const again = check([...files, files[0]!, files[1]!]);
  t.match(again.stdout, /duplicated 18:/, 'shards 1 and 2 given twice: their 18 remaining cells are duplicated');
  const report = await run(files);
  t.equal(report.code, 0, 'the report covers what was measured');
  t.match(report.stderr, /lenet: plan [0-9a-f]{16} is incomplete: 1 of 28 cells missing \(owed by shard 2\/3\); dnn-report --check lists them/, 'and says that a cell is missing');
  const twoShardsOnly = check([files[0]!, files[2]!]);
  t.equal(twoShardsOnly.code, 1);
  t.match(twoShardsOnly.stdout, /no file of shard 2\/3/, 'a shard without a file is named once, not cell by cell');
});

t.test('a shard stopped before its first cell: its cells are missing, its file is there', async (t) => {
  const conds = conditions.map((c) => conditionKey(c));
  const shard2 = new Set<string>();
  for (let i = bounds3[1]!; i < bounds3[2]!; i++) shard2.add(`${conds[Math.floor(i / cuts.length)]};cut=${cuts[i % cuts.length]}`);
  const files = writeShardFiles(sub('header-only'), { network: 'lenet', conditions, cuts, reps: 5, bounds: bounds3, skip: shard2 });
  const r = check([...files]);
  t.equal(r.code, 1);
  t.match(r.stdout, /present 18, missing 10, duplicated 0: INCOMPLETE/);
  t.notMatch(r.stdout, /no file of shard/);
  t.match(r.stdout, /\(shard 2\/3\)/);
  t.notMatch(r.stdout, /not checked/);
});

t.test('shards of different plans: the report refuses in one line, --check shows both', async (t) => {
  const mine = writeShardFiles(sub('mine'), { network: 'lenet', conditions, cuts, reps: 5, bounds: bounds3 });
  const other = writeShardFiles(sub('other'), { network: 'lenet', conditions, cuts, reps: 3, bounds: bounds3 });
  const r = await run([mine[0]!, mine[1]!, other[2]!]);
  t.equal(r.code, 2, 'a user error');
  t.equal(r.stderr.trim().split('\n').length, 1, 'one line');
  t.match(r.stderr, mine[0]!);
  t.match(r.stderr, other[2]!);
  t.match(r.stderr, /not shards of one plan/);
  const c = check([mine[0]!, mine[1]!, other[2]!]);
  t.equal(c.code, 1);
  t.equal(c.stdout.match(/^plan [0-9a-f]{16}:/gm)?.length, 2, 'both plans listed');
  t.match(c.stdout, /lenet: 2 different plans .* refuses to merge them/);

  const split4 = writeShardFiles(sub('four'), { network: 'lenet', conditions, cuts, reps: 5, bounds: [0, 7, 14, 21, cells] });
  const mixed = await run([mine[0]!, split4[1]!]);
  t.equal(mixed.code, 2);
  t.match(mixed.stderr, /different numbers of shards/);
});

t.test('statsOf gives exactly what the histogram library gives', async (t) => {
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let k = 0; k < 200; k++) {
    const h = newLatencyHistogram();
    const n = 1 + Math.floor(rnd() * 50);
    const scale = 10 ** (1 + rnd() * 6);
    for (let i = 0; i < n; i++) h.recordValue(Math.max(1, Math.round(scale * (0.5 + rnd()))));
    if (k % 10 === 0) h.recordValue(0);
    const lib = { p50: h.getValueAtPercentile(50) / 1000, p95: h.getValueAtPercentile(95) / 1000, mean: h.mean / 1000, samples: h.totalCount, dist: distributionOf(h) };
    t.same(statsOf(h), lib, `histogram ${k}`, { diagnostic: false });
  }
});
