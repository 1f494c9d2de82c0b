import { runMain } from './run-main.js';
import { parseCloudOptions } from './cloud-options.js';
import { selectBackend, describeBackend } from '../engine/backend.js';
import { loadNetwork } from '../engine/load-network.js';
import { InferenceService } from '../cloud/inference-service.js';
import { CloudServer } from '../cloud/server.js';
import { largestInferFrame } from '../cloud/frame-cap.js';
import { hostInfo } from '../host-info.js';
import { openPortWarning } from '../cloud/token.js';
import { UserError } from '../errors.js';
import { LocalCloudStress } from '../cloud/cloud-stress.js';
import { protectFromOom, resolveStressor } from '../conditions/stress.js';
import { cleanupLeftovers, onExitSignal } from '../conditions/cleanup.js';
import { isRoot } from '../conditions/proc.js';
import { checkPortFree, listenError, watchParent } from './serve-process.js';
import { checkLimits, describeLimits, requireCgroups } from '../conditions/cgroup.js';
import { confineSelf, hasLimits } from '../conditions/device.js';
import { requireCommands } from '../conditions/tools.js';
import { commandsNeeded } from '../cloud/preflight.js';
import { zstdVersion } from '../codecs/index.js';

/** zstd's version when zstd-napi loads here: the edge refuses zstd codecs before a sweep when WELCOME names none. */
function zstdVersions(): { zstd?: string } {
  const v = zstdVersion();
  return v === undefined ? {} : { zstd: v };
}

runMain('dnn-cloud', async () => {
  const opts = parseCloudOptions(process.argv.slice(2));
  const log = (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);

  // every check that can fail, before anything is made
  const confine = hasLimits(opts.limits) && !opts.inDevice;
  requireCommands(commandsNeeded(opts.stressor, confine && opts.limits.cpus !== undefined));
  if (confine) {
    if (!isRoot()) throw new UserError('--cloud-cpuset/--cloud-cpus/--cloud-memory make a cgroup and need root: run with sudo');
    checkLimits('--cloud', opts.limits);
    requireCgroups('--cloud-cpuset/--cloud-cpus/--cloud-memory');
  }
  if (opts.port !== 0) await checkPortFree(opts.host, opts.port);
  for (const line of cleanupLeftovers()) log(`removed what a killed run left: ${line}`);
  if (confine) {
    // this process and everything it starts (its stressors) from here on
    const device = confineSelf('cloud', opts.limits);
    log(`cloud device: ${describeLimits(opts.limits)} (cgroup ${device.name})`);
  }
  if (!protectFromOom()) log('note: cannot lower this process\'s OOM score here; memory stressors still volunteer to be killed first');
  const backend = await selectBackend(opts.backend, { threads: opts.threads });
  log(describeBackend(backend));
  if (backend.name !== 'onnx' && opts.concurrency > 1) {
    throw new UserError(`--concurrency ${opts.concurrency} needs the onnx backend: ${backend.name} computes on the main thread, one inference at a time`);
  }
  const network = await loadNetwork(opts.network, { seed: opts.seed, inputShape: opts.inputShape });
  if (network.note) log(`note: ${network.note}`);
  log(`built ${network.id} in ${(network.buildMs / 1000).toFixed(1)} s: ${network.params.toLocaleString('en-US')} parameters, ${network.cuts.length} partition points`);
  // the largest INFER this network takes: every queued request and partial frame is at most this
  const maxFrame = Math.min(opts.maxFrame, largestInferFrame(network.cuts));
  const service = new InferenceService(network);
  const t0 = performance.now();
  const halves = await service.warmUp(opts.warmUp);
  log(`warmed up ${opts.warmUp === undefined ? 'every cloud half' : `${halves} cloud halves (--warm-up)`} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  const server = new CloudServer(
    service,
    // the stressor kind travels in WELCOME so the edge records which one loaded the cloud
    { ...hostInfo(), backend: backend.name, versions: { ...backend.versions, node: process.versions.node, stressor: await resolveStressor(opts.stressor), ...zstdVersions() }, cuts: network.cuts.map((c) => c.layer) },
    { port: opts.port, host: opts.host, maxFrame, token: opts.token, log, stress: new LocalCloudStress(opts.stressor, opts.limits), queue: opts.queue, concurrency: opts.concurrency },
  );
  log(`requests: one FIFO queue of ${opts.queue} for all edges (QUEUE_FULL past it), ${opts.concurrency} computed at once, frames up to ${maxFrame.toLocaleString('en-US')} bytes`);
  if (backend.name !== 'onnx') {
    // tfjs-node, wasm and cpu run a half synchronously (dataSync): a worker thread per model would lift it
    log(`note: backend ${backend.name} computes on the main thread: while an inference runs no request is read, so queue times count from when a frame is read, not when it arrived; use --backend onnx (ONNX Runtime computes off the main thread) for pipelined edges`);
  }
  let address;
  try {
    address = await server.listen();
  } catch (e) {
    throw listenError(e, opts.host, opts.port);
  }
  // Before the line that says it listens: whoever waits for that line may signal at once.
  const stopped = new Promise<string>((resolve) => {
    onExitSignal(resolve, { endsProcess: true });
    if (opts.parent) watchParent(opts.parent, () => resolve('edge gone'));
  });
  log(`listening on ${address.address}:${address.port} (${network.id}, fingerprint ${network.fingerprint.slice(0, 12)}, seed ${network.seed}${opts.token ? ', token required' : ''})`);
  // the lab's cloud (--parent-pid) listens in a namespace only its edge reaches
  const open = opts.parent ? undefined : openPortWarning(address.address, address.port, opts.token);
  if (open) log(open);

  log(`${await stopped}: closing`);
  await server.close().catch(() => {});
  log('closed');
});
