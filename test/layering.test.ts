/**
 * The layering rules (.dependency-cruiser.cjs): src/ keeps them, and each rule catches a violation
 * planted in a small tree laid out like src/.
 */
import t from 'tap';
import { mkdtemp, mkdir, rm, writeFile, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { ROOT } from './helpers/cli.js';

interface Violation {
  rule: string;
  from: string;
  to: string;
}

/**
 * The `err` output type (what `npm run lint:deps` prints): `error <rule>: <from> → <to>` per
 * violation (a cycle goes on over the next lines: its first edge is from -> to), then a summary line.
 */
function violationsOfErr(stdout: string): { cruised: number; violations: Violation[] } {
  const violations = [...stdout.matchAll(/^\s*error ([\w-]+): (\S+) →\s+(\S+)/gm)].map((m) => ({ rule: m[1]!, from: m[2]!, to: m[3]! }));
  return { cruised: Number(/(\d+) modules, \d+ dependencies cruised/.exec(stdout)?.[1]), violations };
}

const show = (vs: Violation[]) => vs.map((v) => `${v.rule}: ${v.from} -> ${v.to}`).sort();

const DEPCRUISE = path.join(ROOT, 'node_modules/.bin/depcruise');
const CONFIG = path.join(ROOT, '.dependency-cruiser.cjs');

t.test('src/ keeps every layering rule (npm run lint:deps)', async (t) => {
  // the script as a user runs it: its exit code is the number of violations, its output lists them
  const r = await execa('npm', ['run', '--silent', 'lint:deps'], { cwd: ROOT, reject: false, all: true });
  if (r.exitCode !== 0) t.comment(r.all);
  t.equal(r.exitCode, 0, 'no violations');
  const cruised = Number(/(\d+) modules, \d+ dependencies cruised/.exec(r.all ?? '')?.[1]);
  t.ok(cruised > 100, `the whole of src/ cruised (${cruised} modules)`);
});

/** One file per import, so that no planted import closes a cycle that was not meant. */
const TREE: Record<string, string[]> = {
  // allowed: cli imports anything, edge and report share analysis, the run goes down the layers
  'src/analysis/stats.ts': [],
  'src/model/graph.ts': [],
  'src/engine/run.ts': ['../model/graph.js'],
  'src/cloud/server.ts': ['../engine/run.js'],
  'src/edge/sweep.ts': ['../analysis/stats.js', '../engine/run.js'],
  'src/report/format.ts': ['../analysis/stats.js'],
  'src/cli/edge.ts': ['../edge/sweep.js', '../report/format.js', '../cloud/server.js'],
  // the relay composes the cloud's server and the edge's link
  'src/relay/service.ts': ['../cloud/server.js', '../edge/sweep.js'],
  // planted: one violation per rule
  'src/edge/summary.ts': ['../report/format.js'],
  'src/report/live.ts': ['../edge/sweep.js'],
  'src/report/served.ts': ['../cloud/server.js'],
  'src/cloud/page.ts': ['../report/format.js'],
  'src/model/check.ts': ['type:../engine/run.js'],
  'src/edge/options.ts': ['../cli/edge.js'],
  'src/cloud/relayed.ts': ['../relay/service.js'],
  'src/relay/log.ts': ['../analysis/stats.js'],
  'src/protocol/a.ts': ['./b.js'],
  'src/protocol/b.ts': ['./a.js'],
  'src/protocol/c.ts': ['./missing.js'],
};

const PLANTED: Violation[] = [
  { rule: 'edge-not-report', from: 'src/edge/summary.ts', to: 'src/report/format.ts' },
  { rule: 'report-not-run', from: 'src/report/live.ts', to: 'src/edge/sweep.ts' },
  { rule: 'report-not-run', from: 'src/report/served.ts', to: 'src/cloud/server.ts' },
  { rule: 'cloud-not-report', from: 'src/cloud/page.ts', to: 'src/report/format.ts' },
  { rule: 'model-not-engine', from: 'src/model/check.ts', to: 'src/engine/run.ts' },
  { rule: 'nothing-imports-cli', from: 'src/edge/options.ts', to: 'src/cli/edge.ts' },
  { rule: 'run-not-relay', from: 'src/cloud/relayed.ts', to: 'src/relay/service.ts' },
  { rule: 'relay-serves-only', from: 'src/relay/log.ts', to: 'src/analysis/stats.ts' },
  // a cycle is reported once, at the edge where the cruise first closed it
  { rule: 'no-cycles', from: 'src/protocol/a.ts', to: 'src/protocol/b.ts' },
  { rule: 'resolvable', from: 'src/protocol/c.ts', to: './missing.js' },
];

/** A module importing each of `imports` (a `type:` prefix makes it an `import type`) and exporting one value. */
function moduleText(imports: string[]): string {
  const lines = imports.map((spec, i) =>
    spec.startsWith('type:') ? `import type { T as T${i} } from '${spec.slice(5)}';\nexport type U${i} = T${i};` : `import { v as v${i} } from '${spec}';\nexport const u${i} = v${i};`,
  );
  return [...lines, 'export const v = 1;', 'export type T = number;', ''].join('\n');
}

t.test('each rule reports a violation planted against it, and nothing else', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'dnn-layering-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  for (const [file, imports] of Object.entries(TREE)) {
    await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await writeFile(path.join(dir, file), moduleText(imports));
  }
  await copyFile(path.join(ROOT, 'tsconfig.json'), path.join(dir, 'tsconfig.json'));
  // lint:deps's own output type, read back (one cruise: each costs ~2 s of CPU, loading TypeScript)
  const err = await execa(DEPCRUISE, ['src', '--config', CONFIG, '--output-type', 'err'], { cwd: dir, reject: false });
  const { cruised, violations } = violationsOfErr(err.stdout);
  t.equal(cruised, Object.keys(TREE).length + 1, 'every planted module cruised (and the missing one noted)');
  t.same(show(violations), show(PLANTED), 'exactly the planted violations');
  // its exit code is what fails CI
  t.equal(err.exitCode, PLANTED.length, "lint:deps's output type exits with the number of violations");
});
