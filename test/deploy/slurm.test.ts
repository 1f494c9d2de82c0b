import t from 'tap';
import { execa, type ResultPromise } from 'execa';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ROOT } from '../helpers/cli.js';
import { freePort } from '../helpers/cloud-process.js';
import { checkFiles } from '../../src/report/input/check-files.js';
import { NOT_IN_UNIT_LANE, UNIT_LANE } from '../helpers/lane.js';

/**
 * deploy/slurm for real: a one-node Slurm cluster (munged, slurmctld, slurmd as root, everything
 * in a temporary directory, on loopback, on free ports), deploy/slurm/submit.sh submits a 3-task
 * array of a small lenet lab sweep and its dependent report job; the merged report must hold
 * every cell exactly once. Skipped, with the reason, when Slurm cannot start here.
 * About 15 s on an idle 2-core machine: the cluster lets the three --exclusive tasks share its one
 * node, so the lab runs overlap (nothing here asserts timing).
 */
// 2 rates through the lab's shaped veth, no stress: stressors on a loaded machine are the slow, flaky part
const LEAN = ['--net', '50,10', '--edge-cpu', '0', '--edge-mem', '0', '--cloud-cpu', '0', '--cloud-mem', '0', '--reps', '2', '--warmup', '0', '--cuts', '0,2,4,6,8,10'];

const which = async (cmd: string) => (await execa('sh', ['-c', `command -v ${cmd}`], { reject: false })).exitCode === 0;

interface Cluster {
  env: Record<string, string>;
  procs: ResultPromise[];
  dir: string;
  logs: () => string;
}

/** Seconds between SIGTERM and SIGKILL for a cancelled job: enough for dnn-edge to remove its lab (the default is 30). */
const KILL_WAIT = 10;

async function waitFor(what: string, ms: number, probe: () => Promise<boolean> | boolean): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await probe()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} within ${ms / 1000} s`);
}

/** Starts munged, slurmctld and slurmd; returns why not when they cannot run here. */
async function bringUp(dir: string): Promise<Cluster | string> {
  if (UNIT_LANE) return NOT_IN_UNIT_LANE;
  if (process.getuid?.() !== 0) return 'needs root (slurmd runs jobs as their users)';
  for (const cmd of ['munged', 'slurmctld', 'slurmd', 'sbatch', 'scontrol']) {
    if (!(await which(cmd))) return `${cmd} is not installed (Debian: apt-get install slurm-wlm munge)`;
  }
  const key = path.join(dir, 'munge.key');
  writeFileSync(key, randomBytes(1024));
  chmodSync(key, 0o400);
  const socket = path.join(dir, 'munge.socket');
  const procs: ResultPromise[] = [];
  const logs = () =>
    ['munged.log', 'slurmctld.log', 'slurmd.log']
      .map((f) => path.join(dir, f))
      .filter(existsSync)
      .map((f) => `--- ${path.basename(f)}\n${readFileSync(f, 'utf8').split('\n').slice(-15).join('\n')}`)
      .join('\n');
  const start = (cmd: string, args: string[], env: Record<string, string> = {}) => {
    const p = execa(cmd, args, { reject: false, stdin: 'ignore', env: { ...env, NODE_OPTIONS: '' } });
    procs.push(p);
    return p;
  };
  start('munged', ['--foreground', '--force', '--key-file', key, '--socket', socket, '--pid-file', path.join(dir, 'munged.pid'), '--log-file', path.join(dir, 'munged.log'), '--seed-file', path.join(dir, 'munge.seed')]);
  try {
    await waitFor('munged did not open its socket', 15_000, () => existsSync(socket));
  } catch (e) {
    await tearDown({ env: {}, procs, dir, logs });
    return `munged does not start: ${(e as Error).message}\n${logs()}`;
  }
  const node = (await execa('slurmd', ['-C'], { reject: false })).stdout.split('\n')[0] ?? '';
  const name = /NodeName=(\S+)/.exec(node)?.[1];
  if (!name) return `slurmd -C does not describe this node: ${node}`;
  const [ctldPort, dPort] = [await freePort(), await freePort()];
  for (const d of ['state', 'spool']) mkdirSync(path.join(dir, d));
  const conf = path.join(dir, 'slurm.conf');
  writeFileSync(
    conf,
    [
      'ClusterName=dnntest',
      `SlurmctldHost=${name}(127.0.0.1)`,
      `SlurmctldPort=${ctldPort}`,
      `SlurmdPort=${dPort}`,
      'SlurmUser=root',
      'SlurmdUser=root',
      'AuthType=auth/munge',
      'CredType=cred/munge',
      `AuthInfo=socket=${socket}`,
      `StateSaveLocation=${path.join(dir, 'state')}`,
      `SlurmdSpoolDir=${path.join(dir, 'spool')}`,
      `SlurmctldPidFile=${path.join(dir, 'slurmctld.pid')}`,
      `SlurmdPidFile=${path.join(dir, 'slurmd.pid')}`,
      `SlurmctldLogFile=${path.join(dir, 'slurmctld.log')}`,
      `SlurmdLogFile=${path.join(dir, 'slurmd.log')}`,
      'ProctrackType=proctrack/linuxproc',
      'TaskPlugin=task/none',
      'JobAcctGatherType=jobacct_gather/none',
      'AccountingStorageType=accounting_storage/none',
      'JobCompType=jobcomp/none',
      'SchedulerType=sched/backfill',
      // a scheduling pass on every tick of slurmctld's 1 s loop: by default a pass waits until
      // 3 s after the previous one, as long as a lab run takes on an idle machine
      'SchedulerParameters=batch_sched_delay=0',
      'SelectType=select/cons_tres',
      'SelectTypeParameters=CR_Core',
      'MpiDefault=none',
      'ReturnToService=2',
      'SlurmctldTimeout=30',
      'SlurmdTimeout=30',
      `KillWait=${KILL_WAIT}`,
      `${node.replace(/\s+UpTime=.*$/, '')} NodeAddr=127.0.0.1 State=UNKNOWN`,
      // shard.sbatch asks for --exclusive (stress must not hit other jobs on a real cluster); this
      // cluster's one node is shared by the three tasks anyway (FORCE overrides the job's wish), so
      // they run at once instead of one after another
      'PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:3',
      '',
    ].join('\n'),
  );
  const env = { SLURM_CONF: conf };
  start('slurmctld', ['-D', '-i', '-f', conf], env);
  start('slurmd', ['-D', '-f', conf], env);
  try {
    await waitFor('the node did not become idle', 60_000, async () => {
      const r = await execa('scontrol', ['-o', 'show', 'node', name], { reject: false, env });
      return /State=IDLE/.test(r.stdout);
    });
  } catch (e) {
    await tearDown({ env, procs, dir, logs });
    return `Slurm does not start here: ${(e as Error).message}\n${logs()}`;
  }
  return { env, procs, dir, logs };
}

/** Whether the cluster still holds a job (pending, running or completing); false when slurmctld does not answer. */
async function jobsLeft(env: Record<string, string>): Promise<boolean> {
  const r = await execa('squeue', ['--noheader', '--format=%i'], { reject: false, env });
  return r.exitCode === 0 && r.stdout.trim() !== '';
}

async function tearDown(c: Cluster): Promise<void> {
  // jobs first: cancelled, a running task gets SIGTERM (its dnn-edge removes its lab), SIGKILL
  // after KillWait; waited for only when there are any. Then the daemons, by the PIDs we started.
  if (c.env.SLURM_CONF && (await jobsLeft(c.env))) {
    await execa('scancel', ['--user=root'], { reject: false, env: c.env });
    await waitFor('jobs still there after scancel', (KILL_WAIT + 10) * 1000, async () => !(await jobsLeft(c.env))).catch(() => {});
  }
  for (const p of [...c.procs].reverse()) {
    p.kill('SIGTERM');
    const timer = setTimeout(() => p.kill('SIGKILL'), 10_000);
    await p;
    clearTimeout(timer);
  }
}

const dir = mkdtempSync(path.join(tmpdir(), 'dnn-slurm-'));
chmodSync(dir, 0o755);
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const t0 = Date.now();
const cluster = await bringUp(dir);

t.test('a 3-task lenet lab array and its report job', { skip: typeof cluster === 'string' ? cluster : false }, async (t) => {
  const c = cluster as Cluster;
  t.teardown(() => tearDown(c));
  t.comment(`one-node Slurm up in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  const results = path.join(dir, 'results');
  const submit = await execa(path.join(ROOT, 'deploy/slurm/submit.sh'), LEAN, {
    reject: false,
    // CONCURRENT=3: submit.sh's %N throttle is used, and lets all three tasks run at once
    env: { ...c.env, NETWORK: 'lenet', SHARDS: '3', RESULTS: results, CONCURRENT: '3', NODE_OPTIONS: '' },
  });
  t.equal(submit.exitCode, 0, `submit.sh: ${submit.stderr}`);
  const [arrayId, reportId] = submit.stdout.trim().split('\n').at(-1)!.split(' ');
  t.match(arrayId, /^\d+$/);
  t.match(reportId, /^\d+$/);
  t.equal(statSync(path.join(results, 'token')).mode & 0o777, 0o600, 'the token file is readable by its user only');

  let state = '';
  await waitFor('the report job did not end', 480_000, async () => {
    const r = await execa('scontrol', ['-o', 'show', 'job', reportId!], { reject: false, env: c.env });
    state = /JobState=(\S+)/.exec(r.stdout)?.[1] ?? (r.exitCode !== 0 ? 'GONE' : '');
    return /COMPLETED|FAILED|CANCELLED|TIMEOUT|GONE/.test(state);
  }).catch((e: Error) => t.fail(`${e.message}\n${c.logs()}`));
  const logOf = (f: string) => (existsSync(path.join(results, 'logs', f)) ? readFileSync(path.join(results, 'logs', f), 'utf8') : '(none)');
  t.equal(state, 'COMPLETED', `report job: ${state}\n${logOf('report.out')}\n${[0, 1, 2].map((k) => logOf(`shard-${k}.out`).split('\n').slice(-4).join('\n')).join('\n')}`);

  const files = readdirSync(results).filter((f) => f.endsWith('.hdr')).map((f) => path.join(results, f));
  t.equal(files.length, 3, 'one results file per shard');
  const check = checkFiles(files);
  t.equal(check.plans.length, 1);
  t.equal(check.plans[0]!.cells, 12, '2 conditions x 6 points');
  t.equal(check.plans[0]!.present, 12, 'every cell present');
  t.equal(check.plans[0]!.duplicated.length, 0, 'exactly once');
  t.match(readFileSync(path.join(results, 'check.txt'), 'utf8'), /present 12, missing 0, duplicated 0: complete/);
  t.match(readFileSync(path.join(results, 'report.txt'), 'utf8'), /lenet/);
  t.comment(`array + report in ${((Date.now() - t0) / 1000).toFixed(0)} s in all`);
});
