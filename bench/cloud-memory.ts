/**
 * npm run bench:memory [-- vgg16]
 * Starts a real dnn-cloud (every cloud half built and warmed up) and prints its resident memory next
 * to the byte size of the network's weights: one copy of the weights however many points.
 */
import { execa } from 'execa';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ZOO } from '../models/index.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const network = process.argv[2] ?? 'vgg16';
const entry = ZOO.find((e) => e.name === network);
if (!entry) {
  console.error(`bench:memory: unknown zoo network '${network}'`);
  process.exit(2);
}

const cloud = execa(path.join(ROOT, 'bin/dnn-cloud'), [network, '--host', '127.0.0.1', '--port', '0'], { reject: false, stdin: 'ignore' });
let log = '';
await new Promise<void>((resolve, reject) => {
  cloud.stderr!.on('data', (d: Buffer) => {
    log += d.toString();
    if (/listening on/.test(log)) resolve();
  });
  void cloud.then(() => reject(new Error(`dnn-cloud exited:\n${log}`)));
});
const status = readFileSync(`/proc/${cloud.pid}/status`, 'utf8');
const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN) * 1024;
const points = Number(/(\d+) partition points/.exec(log)?.[1]);
const weights = entry.params * 4;
console.log(
  JSON.stringify({
    network,
    points,
    weights_bytes: weights,
    rss_bytes: kb('VmRSS'),
    rss_over_weights: Math.round((kb('VmRSS') / weights) * 100) / 100,
    peak_rss_bytes: kb('VmHWM'),
  }),
);
cloud.kill('SIGTERM');
await cloud;
