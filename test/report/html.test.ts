// test-lane: full (renders the report in headless Chromium: ~6 s)
import t from 'tap';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildReport } from '../../src/analysis/build-report.js';
import { formatHtml } from '../../src/report/format/html.js';
import { readLegacyDir } from '../../src/report/input/legacy.js';
import { syntheticNetwork, writeCodecRun } from '../helpers/synthetic.js';
import { loadResultFiles } from '../../src/analysis/load-results.js';

const CHROMIUM = '/usr/bin/chromium';
const LENET = fileURLToPath(new URL('../../../test/fixtures/legacy/outputs_lenet', import.meta.url));

t.test('the HTML report loads in headless Chromium with its charts and no errors', { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (Debian package chromium)` }, async (t) => {
  const { chromium } = await import('playwright-core');
  const lenet = readLegacyDir(LENET).networks;
  const dir = t.testdir();
  await writeCodecRun(join(dir, 'codecnet.hdr'), [null, 10, 2]);
  const codecnet = loadResultFiles([join(dir, 'codecnet.hdr')]).networks;
  const report = buildReport([syntheticNetwork(), ...lenet, ...codecnet], { metric: 'p50', minGain: 0.05 });
  const page = join(dir, 'report.html');
  writeFileSync(page, formatHtml(report));

  const profile = mkdtempSync(join(tmpdir(), 'dnn-report-chromium-'));
  t.teardown(() => rmSync(profile, { recursive: true, force: true }));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  t.teardown(() => browser.close());
  const tab = await browser.newPage();
  const problems: string[] = [];
  const requests: string[] = [];
  tab.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
  });
  tab.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  tab.on('request', (r) => requests.push(r.url()));
  await tab.goto(pathToFileURL(page).href, { waitUntil: 'load' });

  t.same(problems, [], 'no console errors');
  t.same(requests, [pathToFileURL(page).href], 'nothing fetched but the page itself');
  const count = (sel: string) => tab.locator(sel).count();
  for (const [net, conditions, cuts] of [['synth', 4, 3], ['lenet', 243, 10]] as const) {
    t.equal(await count(`svg[data-chart="${net}-stacked-baseline"]`), 1, `${net}: stacked bars at the baseline`);
    t.equal(await count(`svg[data-chart="${net}-stacked-condition"]`), 1, `${net}: stacked bars for the chosen condition`);
    t.equal(await count(`svg[data-chart="${net}-stacked-baseline"] rect.bar`), cuts * 3, `${net}: edge, transfer and cloud per point`);
    t.equal(await count(`svg[data-chart="${net}-heatmap"] circle.best`), conditions, `${net}: each condition's best point marked`);
    t.ok((await count(`svg[data-chart="${net}-heatmap"] rect.cell`)) >= conditions * cuts - 5, `${net}: a heat-map cell per condition and point`);
  }
  t.equal(await count('svg[data-chart^="synth-factor-"]'), 2, 'synth: latency against network and edge CPU');
  t.equal(await count('svg[data-chart^="lenet-factor-"]'), 5, 'lenet: latency against each of its 5 factors');
  // encoded arms with recorded fidelity: a bytes vs fidelity chart per point that has codecs, the chosen pair ringed
  t.equal(await count('svg[data-chart*="-fidelity-"]'), 2, 'codecnet: bytes vs fidelity at input and at mid');
  t.equal(await count('svg[data-chart$="-fidelity-mid"] circle.codec'), 4, 'mid: f32, f16, int8 and lz4 (lossless: agreement 1); int8-ch has no record, so no dot');
  t.equal(await count('svg[data-chart$="-fidelity-input"] circle.chosen'), 1, 'the chosen pair (input, f32 at the baseline) is ringed');
  t.equal(await count('svg[data-chart$="-fidelity-mid"] circle.chosen'), 0);
  t.equal(await count('svg[data-chart$="-fidelity-mid"] circle.outside'), 1, 'int8 (3 points lost) drawn hollow');
  t.equal(await count('svg[data-chart*="-fidelity-"] polyline.front'), 2, 'the Pareto front joined on each');
  t.equal(await count('svg[data-chart^="synth-fidelity"], svg[data-chart^="lenet-fidelity"]'), 0, 'no such chart without codecs');
  const box = await tab.locator('svg[data-chart="lenet-heatmap"]').boundingBox();
  t.ok(box && box.width > 300 && box.height > 500, `heat map is drawn (${box?.width}x${box?.height})`);
});
