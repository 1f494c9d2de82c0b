// In-process tests of the change registry, its state file and the one claim key (about 1 s):
// a real process group stands in for a stressor, so nothing here needs root or touches the network.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { claimKey, cleanupLeftovers, describeChange, registerChange, stateDir, undoAll, type Change } from '../../src/conditions/cleanup.js';
import { isSameProcess, readProcStat } from '../../src/conditions/proc.js';

function sleeper(): { pid: number; startTime: number } {
  const child = spawn('sleep', ['60'], { detached: true, stdio: 'ignore' });
  child.unref();
  return { pid: child.pid!, startTime: readProcStat(child.pid!)!.startTime };
}

/** Waits (up to 5 s) for a killed process to be gone: SIGKILL is delivered asynchronously. */
async function gone(p: { pid: number; startTime: number }): Promise<boolean> {
  for (let i = 0; i < 250 && isSameProcess(p.pid, p.startTime); i++) await new Promise((r) => setTimeout(r, 20));
  return !isSameProcess(p.pid, p.startTime);
}

const statePath = join(stateDir(), `state-${process.pid}.json`);
const recorded = (): Change[] => (existsSync(statePath) ? (JSON.parse(readFileSync(statePath, 'utf8')) as { changes: Change[] }).changes : []);

t.test('a change is in the state file from registration until it is undone', async (t) => {
  const p = sleeper();
  const change: Change = { kind: 'process-group', ...p, what: 'test sleeper' };
  const reg = registerChange(change);
  t.same(recorded(), [change], 'recorded');
  reg.undo();
  t.ok(await gone(p), 'the group is killed');
  t.notOk(existsSync(statePath), 'no state file once nothing is left to undo');
  reg.undo(); // idempotent
});

t.test('release forgets without undoing; undoAll undoes the rest, newest first', async (t) => {
  const [a, b] = [sleeper(), sleeper()];
  const regA = registerChange({ kind: 'process-group', ...a, what: 'a' });
  registerChange({ kind: 'process-group', ...b, what: 'b' });
  regA.release();
  t.same(recorded().map((c) => (c as { what: string }).what), ['b']);
  undoAll();
  t.ok(await gone(b), 'the registered one is killed');
  t.ok(isSameProcess(a.pid, a.startTime), 'the released one lives');
  process.kill(-a.pid, 'SIGKILL');
  t.notOk(existsSync(statePath));
});

t.test('a stranger that reused the pid is left alone', async (t) => {
  const p = sleeper();
  registerChange({ kind: 'process-group', pid: p.pid, startTime: p.startTime - 1, what: 'stale record' });
  undoAll();
  t.ok(isSameProcess(p.pid, p.startTime), 'still alive');
  process.kill(-p.pid, 'SIGKILL');
});

t.test('one claim key per thing changed, whatever else the record says', async (t) => {
  t.equal(claimKey({ kind: 'qdisc', iface: 'eth0' }), claimKey(JSON.parse(JSON.stringify({ kind: 'qdisc', iface: 'eth0', netns: undefined })) as Change));
  t.not(claimKey({ kind: 'qdisc', iface: 'eth0' }), claimKey({ kind: 'qdisc', iface: 'eth0', netns: 'dnn-1-0' }));
  t.not(claimKey({ kind: 'netns', name: 'dnn-1-0' }), claimKey({ kind: 'link', name: 'dnn-1-0' }));
  t.equal(
    claimKey({ kind: 'process-group', pid: 7, startTime: 1, what: 'x' }),
    claimKey({ kind: 'process-group', pid: 7, startTime: 1, what: 'y', graceful: true }),
  );
  t.equal(describeChange({ kind: 'qdisc', iface: 'eth0', netns: 'n' }), 'qdisc d1e: on eth0 (netns n)');
});

t.test("a kind of change this release does not know (another release's state file) is kept, never a crash", async (t) => {
  const stranger = { kind: 'cpufreq', dirs: ['/sys/devices/system/cpu/cpu0/cpufreq'] } as unknown as Change;
  t.match(describeChange(stranger), /'cpufreq' change/);
  t.not(claimKey(stranger), claimKey({ ...stranger, dirs: ['/elsewhere'] } as unknown as Change));
  // a dead run that recorded it: the sweep passes over the change and keeps the file for a newer release
  const dead = sleeper();
  process.kill(-dead.pid, 'SIGKILL');
  t.ok(await gone(dead));
  const path = join(stateDir(), `state-${dead.pid}.json`);
  mkdirSync(stateDir(), { recursive: true, mode: 0o700 });
  writeFileSync(path, JSON.stringify({ pid: dead.pid, startTime: dead.startTime, changes: [stranger] }));
  t.teardown(() => rmSync(path, { force: true }));
  t.doesNotThrow(() => cleanupLeftovers());
  t.ok(existsSync(path), 'the state file stays');
});
