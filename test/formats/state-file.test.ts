// test-process: shared (pure: no backend, environment, signal handlers or children; see test/run-shared.ts)
// State files are checked on read: a schema for the file and one per kind of change; newer formats and
// damaged files are named, file:line and field; readers leave such a file alone with a note.
import t from 'tap';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { STATE_FORMAT, parseStateFile, readStateFile, stateDir, stateFilePath, writeStateFile } from '../../src/conditions/cleanup/state-file.js';
import { FormatError } from '../../src/formats/check.js';

const GOOD = { pid: 4242, startTime: 17, changes: [{ kind: 'netns', name: 'dnn-4242-0' }, { kind: 'qdisc', iface: 'veth0', netns: 'dnn-4242-0' }] };

t.test('a state file of today (no format field) reads as before', async (t) => {
  t.same(parseStateFile(JSON.stringify(GOOD), 's.json'), GOOD);
});

t.test('broken state files: FormatError naming file:line, the field, expected and got', async (t) => {
  const cases: [unknown, RegExp][] = [
    [{ ...GOOD, pid: 'x' }, /^s\.json:1: state file field 'pid': expected an integer >= 1, got "x"; it was not written by this tool/],
    [{ pid: 1, changes: [] }, /^s\.json:1: state file field 'startTime' is missing \(expected a number\)/],
    [{ ...GOOD, format: STATE_FORMAT + 1 }, new RegExp(`^s\\.json:1: state file is format ${STATE_FORMAT + 1}, but this release of dnn-partition-bench reads formats up to ${STATE_FORMAT}: upgrade the tool`)],
    [{ ...GOOD, changes: [{ kind: 'netns', name: 'a' }, { kind: 'cgroup', dirs: [] }] }, /^s\.json:1: state file field 'changes\.1\.dirs': expected a list of strings, got \[\]/],
    [{ ...GOOD, changes: [{ kind: 'process-group', pid: 5, what: 'stress' }] }, /field 'changes\.0\.startTime' is missing/],
    [{ ...GOOD, changes: [{ name: 'a' }] }, /field 'changes\.0\.kind' is missing \(expected a string\)/],
  ];
  for (const [value, re] of cases) {
    t.throws(() => parseStateFile(JSON.stringify(value), 's.json'), FormatError);
    t.throws(() => parseStateFile(JSON.stringify(value), 's.json'), re, JSON.stringify(value));
  }
  t.throws(() => parseStateFile('{"pid":', 's.json'), /^s\.json:1: state file is not JSON/);
});

t.test("a kind this release does not know passes (a newer release's, kept for it)", async (t) => {
  const state = { ...GOOD, changes: [{ kind: 'cpufreq', dirs: 3 }] };
  t.same(parseStateFile(JSON.stringify(state), 's.json'), state);
});

t.test('written with the format; a damaged one is left alone with a note', async (t) => {
  const pid = 999_999_001; // no such process: the file is only read
  const path = stateFilePath(pid);
  mkdirSync(stateDir(), { recursive: true, mode: 0o700 });
  t.teardown(() => rmSync(path, { force: true }));
  writeStateFile({ pid, startTime: 1, changes: [{ kind: 'link', name: 'dnn-999999001-0' }] });
  t.equal(JSON.parse(readFileSync(path, 'utf8')).format, STATE_FORMAT);
  t.same(readStateFile(pid)?.state.changes, [{ kind: 'link', name: 'dnn-999999001-0' }]);

  writeFileSync(path, JSON.stringify({ format: STATE_FORMAT + 1, pid, startTime: 1, changes: [] }));
  const notes: string[] = [];
  const write = process.stderr.write;
  process.stderr.write = ((s: string) => {
    notes.push(s);
    return true;
  }) as typeof process.stderr.write;
  try {
    t.equal(readStateFile(pid), null, 'not used');
    t.equal(readStateFile(pid), null, 'not used, and not noted again');
  } finally {
    process.stderr.write = write;
  }
  t.match(notes.join(''), /^note: .*state-999999001\.json:1: state file is format \d+, .*upgrade the tool.* \(left alone\)\n$/);
  t.ok(existsSync(path), 'the file stays');
});
