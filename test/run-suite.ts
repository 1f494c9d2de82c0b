/**
 * `npm test`: every test file in a node process of its own, `--jobs` at a time (slowest first, by
 * the last run's times), then the *.serial test files one at a time: they assert timings, so no
 * other test file may share the CPUs.
 *
 * Why not tap's runner: it loads a module-tracking hook (coverage bookkeeping, which this project
 * does not use) into every test process. Measured here: ~1.1 s of CPU per test file (8 small files:
 * 15.8 s of CPU under `tap`, 6.7 s as plain `node FILE`), a minute of a 2-core machine for the suite.
 * The files are tap tests all the same: `npx tap FILE` runs one with tap's reporters.
 *
 *   node dist/test/run-suite.js [--jobs N] [--unit] [--cpu] [FILE...]   (default: every dist/test/**\/*.test.js)
 *
 * --unit (`npm run test:unit`): the fast lane. Every test that needs root (namespaces, tc, cgroups,
 * stressors, the lab, Slurm) skips, as root too (DNN_TEST_LANE=unit, see test/helpers/lane.ts), so
 * nothing on the machine changes and no timing is asserted: the *.serial files run with the rest.
 * A file whose first line is `// test-lane: full` (whole model zoos, edge and cloud processes end
 * to end) is left to `npm test`: the lane stays under a minute.
 *
 * Files whose first line is `// test-process: shared` (pure tests: no backend chosen, no environment,
 * signal handlers, children, or root tests side by side) share a process, up to SHARED_PER_PROCESS
 * of them (test/run-shared.ts): the start of a node process with tap loaded is ~0.5 s of CPU, more
 * than most such files take to run (45 files: 52 s of CPU as 45 processes, 10.5 s as one).
 *
 * A compiled test whose source is gone (dist/ outlives a deleted or renamed test/*.ts when built
 * without `npm run build`'s wipe) is not run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const TESTS = path.join(ROOT, 'dist/test');
/** A file's own time limit (tap's default of 30 s is for unit tests; lab runs take minutes). */
const TIMEOUT_S = 600;
/** Last run's seconds per file: slowest first keeps both CPUs busy to the end. */
const TIMES = path.join(ROOT, 'node_modules/.cache/dnn-partition-bench/test-times.json');

/** What one test process runs: a test file, or files that share a process (test/run-shared.ts). */
interface Job {
  /** the file (relative to the root), or `shared i/n (N files: ...)` */
  label: string;
  /** its key in the times of the last run: the file, or `shared i/n` */
  key: string;
  files: string[];
  shared: boolean;
}

/** How many `test-process: shared` files one process runs: fewer processes, yet both jobs kept busy. */
const SHARED_PER_PROCESS = 16;
const RUN_SHARED = path.join(TESTS, 'run-shared.js');

interface Outcome {
  /** the job's label */
  file: string;
  key: string;
  ok: boolean;
  seconds: number;
  /** --cpu: user+system CPU seconds of the file's process and every child it waited for. */
  cpu?: { user: number; sys: number };
  counts: Record<string, number>;
  output: string;
}

function findTests(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'fixtures' ? [] : findTests(p);
    return e.name.endsWith('.test.js') && existsSync(sourceOf(p)) ? [p] : [];
  });
}

/** dist/test/a/b.test.js -> test/a/b.test.ts */
function sourceOf(compiled: string): string {
  return path.join(ROOT, path.relative(path.join(ROOT, 'dist'), compiled)).replace(/\.js$/, '.ts');
}

/**
 * Seconds per file: this machine's last run, over the committed seed (test/test-times.seed.json,
 * measured runs of the project's 2-core VM: only the order matters), so a fresh clone (CI) also starts the long lab files first
 * instead of finding them last. Refresh the seed by copying a quiet run's cache (rounded).
 */
const SEED_TIMES = path.join(ROOT, 'test/test-times.seed.json');

function readTimes(): Record<string, number> {
  const read = (file: string) => {
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as Record<string, number>;
    } catch {
      return {};
    }
  };
  return { ...read(SEED_TIMES), ...read(TIMES) };
}

/** tap's closing line, e.g. `# { total: 23, pass: 22, todo: 1 }`. */
function countsOf(output: string): Record<string, number> {
  const line = /^# \{ (total: .*) \}$/m.exec(output)?.[1] ?? '';
  return Object.fromEntries([...line.matchAll(/(\w+): (\d+)/g)].map((m) => [m[1]!, Number(m[2])]));
}

const running = new Set<ChildProcess>();

/** Set by --unit: the children's environment says which lane they run in. */
let lane: Record<string, string> = {};

/**
 * --cpu: each file runs under GNU time (`/usr/bin/time`), which writes the rusage of the file's
 * process and of every descendant reaped below it (the lab's devices, CLIs, clouds) to a file of its
 * own. The suite is CPU-bound on 2 cores: its CPU seconds, unlike its wall time, do not depend on
 * what else the machine runs, so they are the figure to compare between versions of a test.
 */
let cpuDir: string | undefined;
const GNU_TIME = '/usr/bin/time';

function readCpu(file: string): Outcome['cpu'] {
  try {
    const [user, sys] = readFileSync(file, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
    return Number.isFinite(user) && Number.isFinite(sys) ? { user: user!, sys: sys! } : undefined;
  } catch {
    return undefined;
  }
}

function runJob(job: Job): Promise<Outcome> {
  const started = performance.now();
  return new Promise((resolve) => {
    // its own process group, so a timeout ends what the test started too
    const cpuFile = cpuDir && path.join(cpuDir, `${job.key.replace(/[^\w.-]+/g, '_')}.cpu`);
    const script = job.shared ? RUN_SHARED : job.files[0]!;
    const files = job.shared ? { DNN_TEST_FILES: job.files.join(path.delimiter) } : {};
    const [cmd, argv] = cpuFile ? [GNU_TIME, ['-f', '%U %S', '-o', cpuFile, process.execPath, script]] : [process.execPath, [script]];
    const child = spawn(cmd, argv, { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...lane, ...files, TAP_TIMEOUT: String(TIMEOUT_S) } });
    running.add(child);
    const chunks: Buffer[] = [];
    child.stdout!.on('data', (c: Buffer) => chunks.push(c));
    child.stderr!.on('data', (c: Buffer) => chunks.push(c));
    const timer = setTimeout(() => killGroup(child), (TIMEOUT_S + 30) * 1000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      running.delete(child);
      const output = Buffer.concat(chunks).toString('utf8');
      const counts = countsOf(output);
      // a test added after tap's root ended is not run, and not counted as failed either
      const ok = code === 0 && signal === null && counts.total !== undefined && !counts.fail && !output.includes('cannot create subtest after parent test ends');
      const cpu = cpuFile ? readCpu(cpuFile) : undefined;
      resolve({ file: job.label, key: job.key, ok, seconds: (performance.now() - started) / 1000, cpu, counts, output: ok ? output : `${output}\n(exit ${signal ?? code})` });
    });
  });
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    /* already gone */
  }
}

/** Runs the jobs `jobs` at a time, reporting each as it ends. */
async function runAll(list: Job[], jobs: number, report: (o: Outcome) => void): Promise<Outcome[]> {
  const queue = [...list];
  const done: Outcome[] = [];
  const worker = async () => {
    for (let f = queue.shift(); f !== undefined; f = queue.shift()) {
      const o = await runJob(f);
      report(o);
      done.push(o);
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, list.length) }, worker));
  return done;
}

/** One line per file; a failed file's whole output; a serial file's comments (its measured figures). */
function report(o: Outcome): void {
  const n = Object.entries(o.counts).filter(([k]) => k !== 'total').map(([k, v]) => `${v} ${k}`).join(', ');
  const cpu = o.cpu ? ` ${(o.cpu.user + o.cpu.sys).toFixed(1).padStart(6)} s cpu` : '';
  process.stdout.write(`${o.ok ? 'ok  ' : 'FAIL'} ${o.seconds.toFixed(1).padStart(6)} s${cpu}  ${o.file}  (${n || 'no summary'})\n`);
  const notes = o.output.split('\n').filter((l) => /^\s*# (?!Subtest|time=|\{)/.test(l) || /# (TODO|SKIP)/.test(l));
  if (!o.ok) process.stdout.write(`${o.output.replace(/^/gm, '     | ')}\n`);
  else if (o.file.includes('.serial.')) process.stdout.write(`${notes.map((l) => `     | ${l.trim()}`).join('\n')}\n`);
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const u = args.indexOf('--unit');
  const unit = u >= 0;
  if (unit) {
    args.splice(u, 1);
    lane = { DNN_TEST_LANE: 'unit' };
  }
  const c = args.indexOf('--cpu');
  if (c >= 0) {
    args.splice(c, 1);
    if (!existsSync(GNU_TIME)) {
      process.stderr.write(`run-suite: --cpu needs GNU time at ${GNU_TIME} (Debian: apt-get install time)\n`);
      return 2;
    }
    cpuDir = mkdtempSync(path.join(tmpdir(), 'dnn-test-cpu-'));
  }
  const j = args.indexOf('--jobs');
  const jobs = j >= 0 ? Number(args.splice(j, 2)[1]) : 2;
  if (!Number.isInteger(jobs) || jobs < 1) {
    process.stderr.write('run-suite: --jobs must be a whole number of at least 1\n');
    return 2;
  }
  const all = (args.length ? args.map((f) => path.resolve(f)) : findTests(TESTS)).sort();
  const fullOnly = (f: string) => /^\/\/ test-lane: full\b/.test(readFileSync(f, 'utf8'));
  // the source's first line: tsc drops a comment that sits on an elided `import type`
  const sharesProcess = (f: string) => /^\/\/ test-process: shared\b/.test(readFileSync(sourceOf(f), 'utf8'));
  const files = unit ? all.filter((f) => !fullOnly(f)) : all;
  if (files.length < all.length) process.stdout.write(`# unit lane: leaves ${all.length - files.length} files to npm test (test-lane: full)\n`);
  const times = readTimes();
  const key = (f: string) => path.relative(ROOT, f);
  // the unit lane asserts no timing: nothing needs the CPUs to itself
  const isSerial = (f: string) => !unit && f.endsWith('.serial.test.js');
  const single = (f: string): Job => ({ label: key(f), key: key(f), files: [f], shared: false });
  const shared = files.filter((f) => !isSerial(f) && sharesProcess(f));
  const n = Math.ceil(shared.length / SHARED_PER_PROCESS);
  // dealt round-robin (the files are sorted): each process gets a mix of folders, and about as much to do
  const groups: Job[] = Array.from({ length: n }, (_, i) => {
    const mine = shared.filter((_, k) => k % n === i);
    const names = mine.map((f) => path.relative(TESTS, f).replace(/\.test\.js$/, '')).join(' ');
    return { label: `shared ${i + 1}/${n} (${mine.length} files: ${names})`, key: `shared ${i + 1}/${n}`, files: mine, shared: true };
  });
  const parallel = [...files.filter((f) => !isSerial(f) && !shared.includes(f)).map(single), ...groups].sort((a, b) => (times[b.key] ?? 0) - (times[a.key] ?? 0));
  const serial = files.filter(isSerial).map(single);
  const started = performance.now();
  const outcomes = [...(await runAll(parallel, jobs, report)), ...(await runAll(serial, 1, report))];

  // the unit lane's times (root tests skipped) would misorder the full suite's next run
  if (!unit) {
    mkdirSync(path.dirname(TIMES), { recursive: true });
    writeFileSync(TIMES, JSON.stringify({ ...times, ...Object.fromEntries(outcomes.map((o) => [o.key, Math.round(o.seconds * 10) / 10])) }, null, 1));
  }
  const sum = (k: string) => outcomes.reduce((s, o) => s + (o.counts[k] ?? 0), 0);
  const failed = outcomes.filter((o) => !o.ok);
  const minutes = (performance.now() - started) / 60_000;
  process.stdout.write(
    `\n# ${unit ? 'unit lane: ' : ''}${files.length} test files (${parallel.length} processes ${jobs} at a time, ${shared.length} files of them in ${n} shared, then ${serial.length} alone) in ${Math.floor(minutes)}m${String(Math.round((minutes % 1) * 60)).padStart(2, '0')}s: ` +
      `${sum('total')} assertions, ${sum('pass')} pass, ${sum('fail')} fail, ${sum('todo')} todo, ${sum('skip')} skip\n`,
  );
  if (cpuDir) {
    const cpu = outcomes.reduce((s, o) => ({ user: s.user + (o.cpu?.user ?? 0), sys: s.sys + (o.cpu?.sys ?? 0) }), { user: 0, sys: 0 });
    process.stdout.write(`# cpu: ${(cpu.user + cpu.sys).toFixed(1)} s (${cpu.user.toFixed(1)} user + ${cpu.sys.toFixed(1)} sys) over ${outcomes.length} processes\n`);
    rmSync(cpuDir, { recursive: true, force: true });
  }
  if (failed.length) process.stdout.write(`# FAILED: ${failed.map((o) => o.file).join(', ')}\n`);
  return failed.length ? 1 : 0;
}

// Ctrl-C: the test processes run in groups of their own, so pass it on as SIGTERM (a lab run puts
// the machine back on SIGTERM), and give them 10 s before SIGKILL.
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    for (const c of running) killGroup(c, 'SIGTERM');
    const end = () => process.exit(sig === 'SIGINT' ? 130 : 143);
    const force = setTimeout(() => {
      for (const c of running) killGroup(c);
      end();
    }, 10_000);
    const poll = setInterval(() => {
      if (running.size === 0) {
        clearTimeout(force);
        clearInterval(poll);
        end();
      }
    }, 100);
  });
}
process.exitCode = await main();
