// test-lane: full (spawns dnn-report: ~5 s)
// The #dnn-meta line is checked on every read: results files written by v0.1.0 (before the check and the
// format field) still load and report the same, and a broken line stops dnn-report with one line, exit 2.
import t from 'tap';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES, runBin } from '../helpers/cli.js';
import { cellHistograms, sampleMeta } from '../helpers/results.js';
import { readMetaLine, readResultsFile } from '../../src/results/log-reader.js';
import { ResultsWriter, checkResumable } from '../../src/results/log-writer.js';
import { META_PREFIX, RESULTS_FORMAT, checkRunMetadata } from '../../src/results/metadata.js';
import { FormatError } from '../../src/formats/check.js';
import { NO_CONDITION } from '../../src/conditions/condition.js';
import { loadResultFiles } from '../../src/analysis/load-results.js';
import { checkFiles } from '../../src/report/input/check-files.js';
import { userErrorOf } from '../helpers/user-error.js';

const DIR = join(FIXTURES, 'results');
const GRID = 'lenet-grid-v0.1.0.hdr';
const SHARD = 'lenet-shard-1-of-2-v0.1.0.hdr';
const tmp = mkdtempSync(join(tmpdir(), 'dnn-formats-'));

/** dnn-report's output for fixture files, with the fixture directory taken out of the paths it prints. */
async function report(args: string[]) {
  const r = await runBin('dnn-report', args.map((a) => (a.endsWith('.hdr') ? join(DIR, a) : a)));
  return { ...r, stdout: String(r.stdout).replaceAll(`${DIR}/`, '') };
}

t.test('files written by v0.1.0 (no format field) load, and report exactly as v0.1.0 reported them', async (t) => {
  for (const name of [GRID, SHARD]) {
    const file = readResultsFile(join(DIR, name));
    t.equal(file.meta?.format, undefined, `${name} has no format field (format 1)`);
    t.equal(file.meta?.tool_version, '0.1.0');
    t.same(file.warnings, [], `${name}: no warnings`);
    const r = await report(['--format', 'json', name]);
    t.equal(r.exitCode, 0, String(r.stderr));
    t.same(JSON.parse(r.stdout), JSON.parse(readFileSync(join(DIR, name.replace(/\.hdr$/, '.report.json')), 'utf8')), `${name}: the same JSON report`);
  }
  const grid = readResultsFile(join(DIR, GRID));
  t.equal(grid.cells.length, (12 + 1) * 4, '12 points and one reference re-measurement, 4 metrics each');
  t.equal(grid.meta?.conditions?.edge_stressor, 'none', 'conditions are typed');
  const check = await report(['--check', SHARD]);
  t.equal(check.exitCode, 1, 'half the plan: incomplete');
  t.equal(check.stdout.trimEnd(), readFileSync(join(DIR, SHARD.replace(/\.hdr$/, '.check.txt')), 'utf8').trimEnd(), '--check prints what v0.1.0 printed (execa drops the last newline)');
});

/** The grid fixture with its #dnn-meta object changed by `edit`. */
function brokenCopy(name: string, edit: (meta: Record<string, unknown>) => void): string {
  const lines = readFileSync(join(DIR, GRID), 'utf8').split('\n');
  const meta = JSON.parse(lines[0]!.slice(META_PREFIX.length)) as Record<string, unknown>;
  edit(meta);
  lines[0] = `${META_PREFIX}${JSON.stringify(meta)}`;
  const path = join(tmp, name);
  writeFileSync(path, lines.join('\n'));
  return path;
}

t.test('a broken #dnn-meta: dnn-report exits 2 with one line naming the file, the line and the field', async (t) => {
  const cases: [string, (m: Record<string, unknown>) => void, RegExp][] = [
    ['wrong-type.hdr', (m) => ((m.edge as Record<string, unknown>).cores = 'two'), /^dnn-report: \S+wrong-type\.hdr:1: #dnn-meta field 'edge\.cores': expected an integer >= 0, got "two"; fix the field/],
    ['missing.hdr', (m) => delete m.network, /^dnn-report: \S+missing\.hdr:1: #dnn-meta field 'network' is missing \(expected a string\)/],
    ['newer.hdr', (m) => (m.format = RESULTS_FORMAT + 1), new RegExp(`^dnn-report: \\S+newer\\.hdr:1: #dnn-meta is format ${RESULTS_FORMAT + 1}, but this release of dnn-partition-bench reads formats up to ${RESULTS_FORMAT}: upgrade the tool to read it$`)],
    ['nested.hdr', (m) => ((m.cuts as Record<string, unknown>[])[3]!.layer = 7), /^dnn-report: \S+nested\.hdr:1: #dnn-meta field 'cuts\.3\.layer': expected a string, got 7/],
    ['conditions.hdr', (m) => ((m.conditions as Record<string, unknown>).devices = { edge: { cpus: 'half' }, cloud: null }), /#dnn-meta field 'conditions\.devices\.edge\.cpus': expected a number >= 0 or null, got "half"/],
    ['shard.hdr', (m) => (m.shard = { index: 3, count: 2, bounds: [0, 6, 12], predicted_s: 1 }), /#dnn-meta field shard\.index is 3, more than shard\.count 2/],
  ];
  for (const [name, edit, re] of cases) {
    const path = brokenCopy(name, edit);
    // in process, what dnn-report reads with (each spawn costs ~0.6 s of CPU): the report's load and
    // --check's, alone and beside a good file (a broken file is not skipped: it stops the report);
    // the UserError is what runMain prints as `dnn-report: <message>`, exit 2 (the spawns below)
    const message = re.source.startsWith('^dnn-report: ') ? new RegExp(`^${re.source.slice('^dnn-report: '.length)}`) : re;
    const reads: [string, () => unknown][] = [
      ['report', () => loadResultFiles([path])],
      ['--check', () => checkFiles([path])],
      ['beside a good file', () => loadResultFiles([join(DIR, GRID), path])],
    ];
    for (const [how, read] of reads) {
      const e = await userErrorOf(read);
      t.equal(e?.exitCode, 2, `${name} (${how}): a UserError, exit 2`);
      t.match(e?.message, message, `${name} (${how})`);
      t.notMatch(e?.message, /\n/, `${name} (${how}): one line`);
    }
    if (name !== 'wrong-type.hdr') continue;
    // and as processes: alone, under --check, and beside a good file
    for (const args of [[path], ['--check', path], ['--format', 'json', path, join(DIR, GRID)]]) {
      const r = await runBin('dnn-report', args);
      t.equal(r.exitCode, 2, `${name} ${args.length}: exit 2`);
      t.match(String(r.stderr), re, name);
      t.equal(String(r.stderr).trim().split('\n').length, 1, `${name}: one line`);
      t.notMatch(String(r.stderr), /\n\s+at /, 'no stack trace');
    }
  }
});

t.test('a #dnn-meta line that is not JSON (a torn header) is still skipped with a warning, as before', async (t) => {
  const path = join(tmp, 'torn.hdr');
  const lines = readFileSync(join(DIR, GRID), 'utf8').split('\n');
  lines[0] = lines[0]!.slice(0, 50);
  writeFileSync(path, lines.join('\n'));
  const f = readResultsFile(path);
  t.equal(f.meta, undefined);
  t.match(f.warnings[0], /torn\.hdr:1: unreadable run metadata/);
});

t.test('what dnn-edge writes carries the format and passes its own check', async (t) => {
  const path = join(tmp, 'written.hdr');
  const w = await ResultsWriter.create(path, { format: RESULTS_FORMAT, ...sampleMeta('net', ['a']) });
  await w.appendCell(NO_CONDITION, 'a', cellHistograms({ edge: 1, transfer: 1, cloud: 1, total: 3 }), Date.now(), Date.now() + 1);
  await w.close();
  t.equal(readResultsFile(path).meta?.format, RESULTS_FORMAT);
  t.equal(readMetaLine(path)?.format, RESULTS_FORMAT);
  await t.rejects(ResultsWriter.create(join(tmp, 'bad.hdr'), { ...sampleMeta('net', ['a']), reps: -1 }), /internal: the metadata to write: #dnn-meta field 'reps'/, 'the writer refuses metadata it could not read back');
});

t.test('a resume checks the metadata like a read', async (t) => {
  const path = brokenCopy('resume-newer.hdr', (m) => (m.format = RESULTS_FORMAT + 1));
  await t.rejects(checkResumable(path), new RegExp(`resume-newer\\.hdr:1: #dnn-meta is format ${RESULTS_FORMAT + 1}`));
  t.equal(readMetaLine(path), undefined, 'readMetaLine: no usable metadata');
});

t.test('checkRunMetadata: errors are FormatErrors (UserErrors: exit 2)', async (t) => {
  t.throws(() => checkRunMetadata(5, 'x:1'), FormatError);
  t.throws(() => checkRunMetadata(5, 'x:1'), /^x:1: #dnn-meta: expected an object, got 5/);
  t.throws(() => checkRunMetadata({ ...sampleMeta('n', ['a']), tool: 'other' }, 'x:1'), /field 'tool': expected "dnn-partition-bench", got "other"/);
  t.throws(() => checkRunMetadata({ ...sampleMeta('n', ['a']), format: 0 }, 'x:1'), /field 'format': expected an integer >= 1/);
  t.doesNotThrow(() => checkRunMetadata({ ...sampleMeta('n', ['a']), later_field: 1 }, 'x:1'), 'fields this release does not know are allowed');
});
