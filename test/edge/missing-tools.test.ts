// test-lane: full (spawns dnn-edge and dnn-cloud under trimmed PATHs: ~7 s)
/**
 * A machine without a command a run needs (a minimal image without iproute2): one line naming the
 * command and its Debian package, exit 2, and nothing made. The commands run for real, with a PATH
 * that holds only what the test leaves on it.
 */
import t, { type Test } from 'tap';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { ROOT, runBin } from '../helpers/cli.js';
import { leftoversOf } from '../helpers/leftovers.js';
import { interfacesWithOurQdisc, ownerOfName } from '../../src/conditions/cleanup.js';
import { commandsNeeded } from '../../src/edge/preflight.js';
import { parseEdgeOptions } from '../../src/cli/edge-options.js';
import { COMMAND_PACKAGE, missingCommandsError, onPath, type CommandNeed } from '../../src/conditions/tools.js';

/** A folder for PATH with this machine's node, what bin/ launchers use, and every command of COMMAND_PACKAGE but `without`. */
async function pathWithout(t: Test, without: string[]): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'dnn-path-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await symlink(process.execPath, path.join(dir, 'node'));
  const wanted = ['sh', 'dirname', 'readlink', ...Object.keys(COMMAND_PACKAGE)].filter((c) => !without.includes(c));
  for (const c of wanted) {
    const found = (process.env.PATH ?? '').split(path.delimiter).map((d) => path.join(d, c)).find((f) => onPath(path.basename(f), path.dirname(f)));
    if (found) await symlink(found, path.join(dir, c));
  }
  return dir;
}

/** stderr as lines, and whether it holds a stack trace. */
function linesOf(stderr: unknown): string[] {
  return String(stderr).trim().split('\n');
}

t.test('dnn-edge lab lenet without ip and tc: one line naming iproute2, exit 2, nothing left behind', async (t) => {
  const bin = await pathWithout(t, ['ip', 'tc']);
  // execa itself rather than runBin: the pid names what the run would have made
  const run = execa(path.join(ROOT, 'bin/dnn-edge'), ['lab', 'lenet'], { reject: false, env: { PATH: bin, NODE_OPTIONS: '' }, stdin: 'ignore', timeout: 120_000 });
  const pid = run.pid!;
  const r = await run;
  t.equal(r.exitCode, 2, String(r.stderr));
  const lines = linesOf(r.stderr);
  t.equal(lines.length, 1, 'one line');
  t.match(lines[0], /^dnn-edge: ip and tc are not installed .*needed for the lab's network namespace and shaping the network; install the Debian package iproute2: apt-get install iproute2$/);
  t.notMatch(String(r.stderr), /internal error|ENOENT|\n\s+at /, 'no crash, no stack');
  t.same(leftoversOf(pid), [], 'no namespace, veth, cgroup or state file of the run');
  t.same(interfacesWithOurQdisc().filter((i) => ownerOfName(i) === pid), [], 'no qdisc of the run');
});

t.test('a two-machine edge that shapes the network needs tc; a cloud with --stressor stress-ng needs stress-ng', async (t) => {
  const noTc = await pathWithout(t, ['tc']);
  const edge = await runBin('dnn-edge', ['127.0.0.1', 'lenet', '--net', '10'], { env: { PATH: noTc } });
  t.equal(edge.exitCode, 2, String(edge.stderr));
  t.match(linesOf(edge.stderr), [/^dnn-edge: tc is not installed .*needed for shaping the network; install the Debian package iproute2: apt-get install iproute2$/]);

  const noStressNg = await pathWithout(t, ['stress-ng']);
  const cloud = await runBin('dnn-cloud', ['lenet', '--stressor', 'stress-ng', '--port', '0'], { env: { PATH: noStressNg } });
  t.equal(cloud.exitCode, 2, String(cloud.stderr));
  t.match(linesOf(cloud.stderr), [/^dnn-cloud: stress-ng is not installed .*needed for --stressor stress-ng; install the Debian package stress-ng: apt-get install stress-ng$/]);
});

t.test('what a run asks for follows its flags', async (t) => {
  const needed = (...argv: string[]) => [...new Set(commandsNeeded({ ...parseEdgeOptions(argv), trace: false }).flatMap((n) => n.commands))].sort();
  t.same(needed('127.0.0.1', 'lenet', '--no-shape', '--edge-cpu', '0', '--edge-mem', '0'), [], 'an unshaped, unstressed two-machine run: nothing');
  t.same(needed('127.0.0.1', 'lenet', '--net', '10', '--edge-cpu', '0', '--edge-mem', '0'), ['ip', 'tc'], 'shaping: iproute2');
  t.same(needed('127.0.0.1', 'lenet', '--net', '10', '--delay', '20', '--edge-cpu', '0', '--edge-mem', '0'), ['ip', 'tc', 'unshare'], 'netem: its probe');
  t.same(needed('127.0.0.1', 'lenet', '--no-shape', '--edge-cpu', '50', '--edge-mem', '0', '--stressor', 'stress-ng'), ['setpriv', 'stress-ng'], 'edge stress with stress-ng');
  t.same(needed('127.0.0.1', 'lenet', '--no-shape', '--edge-cpu', '0', '--edge-mem', '0', '--edge-cpus', '0.5'), ['chrt', 'setpriv', 'taskset'], 'a CPU time limit: keep-awake spinners');
  t.same(needed('lab', 'lenet', '--no-shape', '--edge-cpu', '0', '--edge-mem', '0', '--cloud-cpu', '50', '--cloud-mem', '0'), ['ip', 'setpriv'], "the lab's cloud stresses this machine too");
});

t.test('the error groups commands by package and says what needs them', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'dnn-path-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await symlink(process.execPath, path.join(dir, 'tc'));
  const needs: CommandNeed[] = [
    { commands: ['ip', 'tc'], for: 'shaping the network' },
    { commands: ['setpriv', 'chrt', 'taskset'], for: 'a CPU time limit' },
    { commands: ['stress-ng'], for: '--stressor stress-ng' },
  ];
  t.equal(
    missingCommandsError(needs, dir)?.message,
    'ip, setpriv, chrt, taskset and stress-ng are not installed (not on the PATH), needed for shaping the network, a CPU time limit and --stressor stress-ng; ' +
      'install the Debian packages iproute2, util-linux and stress-ng: apt-get install iproute2 util-linux stress-ng',
  );
  t.equal(missingCommandsError([{ commands: ['tc'], for: 'x' }], dir), undefined, 'tc is there: no error');
  t.equal(missingCommandsError([], ''), undefined, 'nothing needed: no error');
});
