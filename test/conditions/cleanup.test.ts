import { existsSync, rmSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import t, { type Test } from 'tap';
import { cleanupLeftovers, listLinks, listNetns, stateDir } from '../../src/conditions/cleanup.js';
import { createLabNetwork } from '../../src/conditions/netns.js';
import { processGroup, readProcStat } from '../../src/conditions/proc.js';
import { NEEDS_ROOT, firstLine, tcShow } from '../helpers/root.js';

/** Whether stressors get a parent-death signal here (util-linux's setpriv with --pdeathsig). */
async function hasSetprivPdeathsig(): Promise<boolean> {
  const r = await execa('setpriv', ['--help'], { reject: false });
  return r.exitCode === 0 && String(r.stdout).includes('--pdeathsig');
}

const FIXTURE = fileURLToPath(new URL('./fixtures/hold-conditions.js', import.meta.url));

interface Held {
  netns: string;
  link: string;
  stressorPids: number[];
  kind: string;
}

/** Starts the fixture, which shapes `iface`, makes its own lab and starts a stressor. */
async function holdConditions(iface: string, kind: string, then = '') {
  const child = execa(process.execPath, [FIXTURE, iface, kind, then], { reject: false, buffer: { stdout: false } });
  const held = JSON.parse(await firstLine(child)) as Held;
  return { child, held };
}

function assertAllPresent(t: Test, iface: string, held: Held, qdiscs: string): void {
  t.ok(listNetns().includes(held.netns), `namespace ${held.netns} exists`);
  t.ok(listLinks().includes(held.link), `link ${held.link} exists`);
  t.match(qdiscs, /qdisc tbf d1e: root/, `our qdisc is on ${iface}`);
}

async function assertAllGone(t: Test, iface: string, held: Held, ownerPid: number): Promise<void> {
  t.notOk(listNetns().includes(held.netns), `namespace ${held.netns} is gone`);
  t.notOk(listLinks().includes(held.link), `link ${held.link} is gone`);
  t.notMatch(await tcShow(iface), /d1[ef]:/, `no qdisc of ours on ${iface}`);
  t.ok(held.stressorPids.every((p) => processGroup(p).length === 0), 'the stressor group is gone');
  t.notOk(existsSync(join(stateDir(), `state-${ownerPid}.json`)), 'its state file is gone');
}

t.test('cleanupLeftovers removes what a SIGKILLed run left behind', { skip: NEEDS_ROOT }, async (t) => {
  // The shaped interface belongs to this (living) test, so it survives the child and its leftovers.
  const lab = await createLabNetwork();
  t.teardown(lab.teardown);
  const { child, held } = await holdConditions(lab.edgeIface, 'stress-ng');
  // checked while the child lives: once it is dead, any run starting beside this file (tap runs two
  // files at once; every run sweeps dead runs' leftovers first) may remove them before we look
  assertAllPresent(t, lab.edgeIface, held, await tcShow(lab.edgeIface));
  child.kill('SIGKILL');
  t.equal((await child).signal, 'SIGKILL');
  // first line of defence: the stressor got a parent-death signal and dies with its starter
  const deadline = Date.now() + 2000;
  while (Date.now() < deadline && held.stressorPids.some((p) => processGroup(p).length > 0)) await new Promise((r) => setTimeout(r, 50));
  const stressorDied = held.stressorPids.every((p) => processGroup(p).length === 0);
  t.ok(stressorDied || !(await hasSetprivPdeathsig()), 'the stressor died with the process that started it (parent-death signal)');

  // second line: the sweep removes the rest (and the stressor, where no parent-death signal was had)
  const removed = cleanupLeftovers();
  t.comment(`removed: ${removed.join('; ')}`);
  // the namespace is removed by this sweep, or already was by a run starting beside this file (the same
  // function: CI saw both); the veth's root end and its qdisc go with the namespace when the kernel
  // tears the pair down first, so they are not always reported: that all are gone is asserted below
  const sweptHere = removed.some((r) => r.includes(held.netns));
  if (!sweptHere) t.comment(`namespace ${held.netns} was swept by a run beside this file before this sweep`);
  t.ok(sweptHere || !listNetns().includes(held.netns), 'removed: network namespace');
  // tap runs test files side by side, and some kill runs on purpose: their leftovers may be swept here too
  const ours = (r: string) => [held.netns, held.link, lab.edgeIface, ...held.stressorPids.map((p) => `process group ${p})`)].some((x) => r.includes(x));
  t.ok(removed.filter(ours).length <= 4, 'nothing else of this run (at most the stressor group record besides)');
  const others = removed.filter((r) => !ours(r));
  if (others.length) t.comment(`also swept, left by another test file's killed run: ${others.join('; ')}`);
  await assertAllGone(t, lab.edgeIface, held, child.pid!);
  t.ok(listLinks().includes(lab.edgeIface), "a living run's lab is left alone");
  t.same(cleanupLeftovers(), [], 'nothing left for a second pass');
});

t.test('leftover namespaces and links named after a dead owner go even without a state file', { skip: NEEDS_ROOT }, async (t) => {
  const lab = await createLabNetwork();
  t.teardown(lab.teardown);
  const { child, held } = await holdConditions(lab.edgeIface, 'builtin');
  child.kill('SIGKILL');
  await child;
  await execa('rm', ['-f', join(stateDir(), `state-${child.pid}.json`)]);
  for (const pid of held.stressorPids) process.kill(-pid, 'SIGKILL'); // unnamed, so unfindable without the state file
  const removed = cleanupLeftovers();
  t.comment(`removed: ${removed.join('; ')}`);
  t.notOk(listNetns().includes(held.netns), 'namespace gone');
  t.notOk(listLinks().includes(held.link), 'link gone');
  t.notMatch(await tcShow(lab.edgeIface), /d1e:/, 'no qdisc of ours');
});

/**
 * Every dnn-edge and dnn-cloud sweeps at its start, while other runs shape and unshape their links
 * (a lab's trace replay re-installs its qdisc for every policy). A sweep that read the claims before
 * looking at the host took a qdisc recorded and installed in between for a leftover, and deleted a
 * living lab's shaping under it (a whole policy then logged 0 trace steps applied). Here the other
 * run (state file in the name of a living `sleep`) acts at the worst moments: a `tc` first on PATH
 * does its part when the sweep runs `tc qdisc show` (the host's qdiscs) or `tc qdisc show dev IF
 * root` (the check before removing one), around the real tc.
 */
t.test('the sweep spares a qdisc a living run records and installs while the sweep runs', { skip: NEEDS_ROOT }, async (t) => {
  const lab = await createLabNetwork();
  t.teardown(lab.teardown);
  const owner = execa('sleep', ['60'], { reject: false });
  t.teardown(() => void owner.kill('SIGKILL'));
  const stateFile = join(stateDir(), `state-${owner.pid}.json`);
  t.teardown(() => rmSync(stateFile, { force: true }));
  const dir = await mkdtemp(join(tmpdir(), 'dnn-sweep-race-'));
  const claim = join(dir, 'claim.json');
  await writeFile(claim, JSON.stringify({ format: 1, pid: owner.pid, startTime: readProcStat(owner.pid!)!.startTime, changes: [{ kind: 'qdisc', iface: lab.edgeIface }] }));
  const tc = String((await execa('sh', ['-c', 'command -v tc'])).stdout).trim();
  const iface = lab.edgeIface;
  const record = `mkdir -p ${stateDir()} && cp ${claim} ${stateFile}`;
  const install = `${tc} qdisc add dev ${iface} root handle d1e: tbf rate 10mbit burst 5k latency 50ms`;
  const remove = `${tc} qdisc del dev ${iface} root`;
  type Hook = { command: string; before?: string; after?: string };
  /** One sweep, the other run acting once at each hook: `before` ahead of the tc command, `after` once its output is taken. */
  const sweepWith = async (...hooks: Hook[]) => {
    const marks = hooks.map((_, i) => join(dir, `acted-${i}`));
    for (const m of marks) rmSync(m, { force: true });
    const cases = hooks.map((h, i) => [
      `  "${h.command}") if [ ! -e ${marks[i]} ]; then`,
      `    touch ${marks[i]}; ${h.before ?? ':'}; out=$(${tc} "$@"); ${h.after ?? ':'}; printf '%s\\n' "$out"; exit 0`,
      '  fi;;',
    ]);
    await writeFile(join(dir, 'tc'), ['#!/bin/sh', 'case "$*" in', ...cases.flat(), 'esac', `exec ${tc} "$@"`, ''].join('\n'), { mode: 0o755 });
    const path = process.env.PATH;
    process.env.PATH = `${dir}:${path}`;
    try {
      const removed = cleanupLeftovers();
      t.ok(marks.every((m) => existsSync(m)), `the other run acted during the sweep (at ${hooks.map((h) => `tc ${h.command}`).join(', ')})`);
      return removed.filter((r) => r.includes(iface));
    } finally {
      process.env.PATH = path;
    }
  };
  t.same(await sweepWith({ command: 'qdisc show', before: `${record}; ${install}` }), [], 'a qdisc recorded and installed just before the sweep looks at the host is not taken for a leftover');
  t.match(await tcShow(iface), /qdisc tbf d1e: root/, 'it is still on the link');
  t.same(
    await sweepWith({ command: 'qdisc show', after: `${remove}; rm ${stateFile}` }, { command: `qdisc show dev ${iface} root`, before: `${record}; ${install}` }),
    [],
    'nor one removed and forgotten once the sweep saw it, then recorded and installed again before the sweep checks it before removing it',
  );
  t.match(await tcShow(iface), /qdisc tbf d1e: root/, 'it is still on the link');
});

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  t.test(`on ${signal} a run puts everything back itself`, { skip: NEEDS_ROOT }, async (t) => {
    const lab = await createLabNetwork();
    t.teardown(lab.teardown);
    const { child, held } = await holdConditions(lab.edgeIface, 'builtin');
    assertAllPresent(t, lab.edgeIface, held, await tcShow(lab.edgeIface));
    child.kill(signal);
    const r = await child;
    t.equal(r.signal, signal, `it still dies of ${signal}, so its parent sees the usual status`);
    await assertAllGone(t, lab.edgeIface, held, child.pid!);
  });
}

t.test('an uncaught exception puts everything back and exits 1', { skip: NEEDS_ROOT }, async (t) => {
  const lab = await createLabNetwork();
  t.teardown(lab.teardown);
  const { child, held } = await holdConditions(lab.edgeIface, 'stress-ng', 'throw');
  const r = await child;
  t.equal(r.exitCode, 1);
  t.match(String(r.stderr), /deliberate crash/);
  await assertAllGone(t, lab.edgeIface, held, child.pid!);
});
