/**
 * Several test files in one process (test/run-suite.ts's shared processes): each is imported in
 * turn, and its top-level tests join tap's one root test. What this saves is the start of a process
 * with tap loaded, ~0.5 s of CPU per file. Only files that say so share a process (first line
 * `// test-process: shared`): they leave nothing behind in the process (no backend chosen, no
 * environment, signal handlers, children, or root tests side by side).
 *
 *   DNN_TEST_FILES="FILE:FILE..." node dist/test/run-shared.js
 *
 * The files come in the environment, not as arguments: tap names each test's scratch folder
 * (t.testdir) after the process's arguments.
 */
import { delimiter } from 'node:path';
import { pathToFileURL } from 'node:url';
import t from 'tap';

// Once a file adds a teardown to the root test, tap ends the root as soon as it is idle: a file
// still being imported would find it ended ("cannot create subtest after parent test ends"), its
// tests unrun. So a first test holds the root until every file is in; the files' tests run after it.
const files = (process.env.DNN_TEST_FILES ?? '').split(delimiter).filter(Boolean);
let imported!: () => void;
const allIn = new Promise<void>((resolve) => (imported = resolve));
t.test(`shared process: ${files.length} test files imported`, async (t) => {
  await allIn;
  t.pass('every file is in');
});
for (const file of files) await import(pathToFileURL(file).href);
imported();
