import { runMain } from './run-main.js';
import { parseEdgeOptions, type EdgeOptions } from './edge-options.js';
import { runEdge, type EdgeRunResult } from '../edge/run-edge.js';
import { runAdaptive } from '../edge/adaptive/run-adaptive.js';
import { preparePlan } from '../edge/run-edge.js';
import { formatDryRun } from '../edge/dry-run.js';
import { selectBackend } from '../engine/backend.js';
import { GiveUp, LinkFailure } from '../edge/cloud-link.js';
import { labDevices, startLab, type Lab } from '../edge/lab.js';
import { allowedCpus, checkLimits, describeLimits, requireCgroups, type DeviceLimits } from '../conditions/cgroup.js';
import { confineSelf, hasLimits, type Device } from '../conditions/device.js';
import { checkInputFiles, checkNetem, checkResume, commandsNeeded } from '../edge/preflight.js';
import { requireCommands } from '../conditions/tools.js';
import { printBestPoints } from '../edge/quick-summary.js';
import { FACTOR } from '../conditions/factors.js';
import { StressError, protectFromOom } from '../conditions/stress.js';
import { interfaceFor } from '../conditions/tc.js';
import { onExitSignal, removeLeftovers } from '../conditions/cleanup.js';
import { isRoot } from '../conditions/proc.js';
import { UserError } from '../errors.js';
import type { RunConditions } from '../results/metadata.js';
import { EdgeFailure, EdgeFleet, cloudClients } from '../edge/lab-edges/fleet.js';
import { edgeDeviceLimits } from '../edge/lab-edges/devices.js';
import { memAvailableBytes } from '../conditions/stress.js';
import { newScheduleSeed } from '../edge/schedule.js';
import { runTiersCli } from './edge-tiers.js';

/** dnn-edge: the wiring around parseEdgeOptions and runEdge (privileges, leftovers, signals, the lab, exit codes). */

type Log = (line: string) => void;

/** Refuses, before anything is changed, what needs root when we are not root. */
function checkPrivileges(o: EdgeOptions): void {
  if (o.lab && !isRoot()) throw new UserError("the lab (host 'lab') creates a network namespace and needs root: run with sudo");
  if (o.shaping && !isRoot()) throw new UserError(`shaping the network (tc) needs root: run with sudo, or pass --no-shape to measure the network as it is (${FACTOR.net.flag} levels are then ignored)`);
}

interface Devices {
  edge?: DeviceLimits;
  cloud?: DeviceLimits;
}

/** Each end's device: in the lab always (disjoint CPU sets by default); elsewhere the edge's, if limited or calibrated. */
function devicesOf(o: EdgeOptions): Devices {
  if (o.lab && o.edges > 1) {
    // --edges N: every edge a device of the class given, sharing the edge CPU set (lab-edges/devices.ts)
    const d = labDevices(allowedCpus(), o.limits.edge, o.limits.cloud);
    return { ...d, edge: edgeDeviceLimits(o.edges, d.edge, { slowdown: o.slowdown, memAvailable: memAvailableBytes() }) };
  }
  if (o.lab) return labDevices(allowedCpus(), o.limits.edge, o.limits.cloud);
  return hasLimits(o.limits.edge) || o.slowdown !== undefined ? { edge: o.limits.edge } : {};
}

/** Every check that can fail, before a namespace, cgroup, qdisc, stressor or results file is made. */
async function checkBeforeStart(o: EdgeOptions, d: Devices): Promise<void> {
  if (d.edge && !isRoot()) throw new UserError('--edge-cpuset/--edge-cpus/--edge-memory and --edge-slowdown make a cgroup and need root: run with sudo');
  if (d.edge) checkLimits('--edge', d.edge);
  if (d.cloud) checkLimits('--cloud', d.cloud);
  if (d.edge || d.cloud) requireCgroups(o.lab ? "the lab's two devices" : '--edge-cpuset/--edge-cpus/--edge-memory/--edge-slowdown');
  if (o.shaping) await checkNetem(o.conditions);
  await checkResume(o.resume);
  await checkInputFiles(o);
}

/** Each end's limits as the results metadata records them (null: not limited by this run). */
function devicesMeta(d: Devices): NonNullable<RunConditions['devices']> {
  const one = (l?: DeviceLimits) => (l ? { cpuset: l.cpuset ?? null, cpus: l.cpus ?? null, memory_bytes: l.memoryBytes ?? null } : null);
  return { edge: one(d.edge), cloud: one(d.cloud) };
}

/** The interface to shape: none without shaping, the lab's veth, --iface, or the route to the host (never loopback unasked). */
async function shapedInterface(o: EdgeOptions, host: string, lab: Lab | null): Promise<string | null> {
  if (!o.shaping) return null;
  const iface = lab ? lab.iface : (o.iface ?? (await interfaceFor(host)));
  if (iface === 'lo' && !o.iface) {
    throw new UserError(`${host} is reached over the loopback interface: shaping it would slow both directions and every local connection; use 'dnn-edge lab ${o.network}' on one machine, or --no-shape`);
  }
  return iface;
}

/** The lab's cloud serves the same network, with the same weights and stressor kind, as this edge. */
function labCloudArgs(o: EdgeOptions): string[] {
  return [
    ...[o.network, '--backend', o.backend, ...(o.threads ? ['--threads', String(o.threads)] : []), '--seed', String(o.seed), '--stressor', o.stressor],
    ...(o.inputShape ? ['--input-shape', o.inputShape.join('x')] : []),
    ...(o.cuts !== 'all' ? ['--warm-up', o.cuts] : []),
    ...labQueueArgs(o),
  ];
}

/** --cloud-queue/--cloud-concurrency: the lab's cloud's --queue/--concurrency (its own defaults otherwise). */
function labQueueArgs(o: EdgeOptions): string[] {
  return [...(o.cloudQueue !== undefined ? ['--queue', String(o.cloudQueue)] : []), ...(o.cloudConcurrency !== undefined ? ['--concurrency', String(o.cloudConcurrency)] : [])];
}

/** A run that ended because the cloud or a stressor failed: what is measured is saved, exit 1. */
function endedEarly(e: unknown): e is Error {
  return e instanceof GiveUp || e instanceof LinkFailure || e instanceof StressError || e instanceof EdgeFailure;
}

/** --dry-run: the plan and the estimated time of each shard; nothing on the machine changes. */
async function dryRun(o: EdgeOptions): Promise<void> {
  await selectBackend(o.backend, { threads: o.threads });
  const prepared = await preparePlan({ ...o, shard: o.shard ?? { index: 1, count: o.dryRunShards ?? 1 } });
  process.stdout.write(formatDryRun(prepared, o.shard, o.scenario, o.race, o.edges));
  if (o.edges > 1) {
    const d = devicesOf(o);
    process.stdout.write(`lab: ${o.edges} edges against one cloud, each measuring every cell above at the same time: each edge ${describeLimits(d.edge!)} (a cgroup, a namespace and a shaped veth of its own); the cloud ${describeLimits(d.cloud!)}\n`);
  }
}

runMain('dnn-edge', async () => {
  const o = parseEdgeOptions(process.argv.slice(2));
  const log: Log = (line) => process.stderr.write(`${line}\n`);
  if (o.tiers) return runTiersCli({ ...o, tiers: o.tiers }, log);
  if (o.dryRun) return dryRun(o);
  // first: it reads the PATH only, and a missing command is the first thing to fix, root or not
  requireCommands(commandsNeeded({ ...o, trace: o.trace !== undefined }));
  checkPrivileges(o);
  const devices = devicesOf(o);
  await checkBeforeStart(o, devices);
  await removeLeftovers(log);
  if (!protectFromOom()) log("note: cannot lower this process's OOM score here; memory stressors still volunteer to be killed first");
  let edge: Device | null = null;
  if (devices.edge) {
    // this process and all it starts from here on (stressors, tc)
    edge = confineSelf('edge', devices.edge);
    log(`edge device: ${describeLimits(devices.edge)} (cgroup ${edge.name})`);
  }
  if (devices.cloud) log(`cloud device: ${describeLimits(devices.cloud)}`);
  if (o.lab && o.quick) {
    log(o.slowdown === undefined ? 'quick look: edge and cloud of the same class (--edge-slowdown 1)' : `quick look: emulating an edge ${o.slowdown}x slower than its cloud (a small board next to a server core); --edge-slowdown 1 turns this off`);
  }

  let lab: Lab | null = null;
  let fleet: EdgeFleet | null = null;
  // every edge shuffles its conditions alike: the seed is fixed before the followers start
  const orderSeed = o.edges > 1 ? (o.orderSeed ?? newScheduleSeed()) : o.orderSeed;
  const interrupted = (signal: string) => log(`dnn-edge: ${signal}: stopping; every completed cell is saved${lab ? ', the lab is removed' : ''} (continue with --resume)`);
  // the note, then the lab is removed and the process dies of the signal (nothing runs after the lab is gone)
  onExitSignal(interrupted);

  let result: EdgeRunResult;
  try {
    let { host, port } = o;
    if (o.lab) {
      lab = await startLab(labCloudArgs(o), log, devices.cloud, o.edges > 1);
      host = lab.host;
      port = lab.port;
    }
    const iface = await shapedInterface(o, host, lab);
    if (iface) log(`shaping egress of ${iface} towards ${host}`);
    if (lab && o.edges > 1) {
      log(`lab: ${o.edges} edges, each ${describeLimits(devices.edge!)}; starting ${o.edges === 2 ? 'edge 1' : `edges 1-${o.edges - 1}`}`);
      fleet = await EdgeFleet.start({ network: lab.network, port: lab.port, edges: o.edges, argv: o.commandLine.slice(1), orderSeed: orderSeed!, limits: devices.edge!, shaping: iface !== null, calibrated: o.slowdown !== undefined ? (edge ?? undefined) : undefined, log });
    }
    if (o.trace) {
      if (!iface) throw new UserError('--trace needs a shaped interface towards the cloud');
      const t = o.trace;
      const { file } = await runAdaptive({
        ...o,
        host,
        port,
        iface,
        edge: edge ?? undefined,
        schedule: t.schedule,
        replay: { file: t.file, scale: t.scale, loop: t.loop, duration_ms: t.schedule.lengthMs },
        policies: t.policies,
        intervalMs: t.intervalMs,
        profile: t.profile,
        maxAgreementLoss: t.maxAgreementLoss,
        slotMs: t.slotMs,
        slotSeed: o.orderSeed,
        ...(t.camera ? { camera: t.camera } : {}),
        setup: { lab: o.lab, devices: devicesMeta(devices), shaped: true, design: o.design },
        log,
      });
      log(`report: ./bin/dnn-report ${file}`);
      return 0;
    }
    result = await runEdge({
      ...o,
      orderSeed,
      edges: { count: o.edges, index: 0 },
      ...(fleet ? { labEdge: fleet.role() } : {}),
      host,
      port,
      iface,
      edge: edge ?? undefined,
      setup: { lab: o.lab, devices: devicesMeta(devices), shaped: Boolean(iface), design: o.design, quick: o.quick },
      log,
    });
  } catch (e) {
    if (!endedEarly(e)) throw e;
    log(`dnn-edge: ${e.message}; every cell measured so far is saved (continue with --resume)`);
    if (lab) log(lab.cloudLog().trim().split('\n').slice(-5).map((l) => `cloud: ${l}`).join('\n'));
    return 1;
  } finally {
    if (fleet && lab) log(`lab: the cloud's log shows HELLO from ${[...new Set(cloudClients(lab.cloudLog()))].join(', ')}`);
    await fleet?.close();
    await lab?.close();
    edge?.release();
  }
  const { stats, file } = result;
  if (fleet) log(`edge 0: ${stats.cells} cells, ${stats.samples} samples, ${stats.retries} samples redone after failures; ${fleet.summary()} -> ${file}`);
  else log(`${stats.cells} cells${o.race ? ` (${stats.raced} left the race early, ${stats.warmups ?? 0} warm-ups)` : ''}, ${stats.samples} samples, ${stats.retries} samples redone after failures -> ${file}`);
  if (o.quick) printBestPoints(file);
  log(`full report: ./bin/dnn-report ${file}`);
});
