import type { EdgeOptions, TierOptions } from './edge-options.js';
import { selectBackend } from '../engine/backend.js';
import { formatTierDryRun, loadTierPoints, prepareTierPlan, runTiers, tierPlan } from '../edge/run-tiers.js';
import { formatTierTraceDryRun, runTierTrace, tierPolicies, tierTracePlan } from '../edge/adaptive/tier-replay.js';
import { newScheduleSeed } from '../edge/schedule.js';
import { startTierLab, tierLabDevices, type TierLab } from '../edge/tier-lab.js';
import { printBestConfigs } from '../edge/tier-summary.js';
import { allowedCpus, checkLimits, describeLimits, requireCgroups } from '../conditions/cgroup.js';
import { confineSelf, type Device } from '../conditions/device.js';
import { onExitSignal, removeLeftovers } from '../conditions/cleanup.js';
import { isRoot } from '../conditions/proc.js';
import { requireCommands } from '../conditions/tools.js';
import { checkNetem, checkResume, checkInputFiles, commandsNeeded } from '../edge/preflight.js';
import { GiveUp, LinkFailure } from '../edge/cloud-link.js';
import { UserError } from '../errors.js';

/** dnn-edge --tiers 3: the wiring (dry run, privileges, leftovers, signals, the three-tier lab, the summary). */

type Log = (line: string) => void;

/** The network and backend flags the lab's relay and cloud take alike (same weights, same backend). */
function endArgs(o: EdgeOptions): string[] {
  return ['--backend', o.backend, ...(o.threads ? ['--threads', String(o.threads)] : []), '--seed', String(o.seed), ...(o.inputShape ? ['--input-shape', o.inputShape.join('x')] : [])];
}

export async function runTiersCli(o: EdgeOptions & { tiers: TierOptions }, log: Log): Promise<number> {
  if (o.dryRun) {
    await selectBackend(o.backend, { threads: o.threads });
    const plan = await prepareTierPlan(o, o.orderSeed ?? 0);
    if (o.trace) {
      process.stdout.write(formatTierTraceDryRun(o.trace, tierPolicies(o.trace.policies, plan.configs), plan.configs.length));
      return 0;
    }
    process.stdout.write(formatTierDryRun(plan, { reps: o.reps, warmup: o.warmup, maxConfigs: o.tiers.maxConfigs, deviceSlowdown: o.tiers.deviceSlowdown, edgeSlowdown: o.slowdown }));
    return 0;
  }
  requireCommands(commandsNeeded({ ...o, trace: o.trace !== undefined }));
  if (o.lab && !isRoot()) throw new UserError("the three-tier lab (host 'lab') creates network namespaces and needs root: run with sudo");
  // before anything is changed (one-line errors): the backend the network is loaded on, the network
  // and its points, --configs and --cuts; under a trace its policies and the oracle. Loaded once: the run takes it.
  await selectBackend(o.backend, { threads: o.threads });
  const loaded = await loadTierPoints(o);
  // a replay's configurations are drawn with its slots' seed (so its metadata's); a sweep's in runTiers, with its schedule's (a resume's from its file)
  const slotSeed = o.orderSeed ?? newScheduleSeed();
  const plan = tierPlan(loaded, o, o.trace ? slotSeed : 0);
  const replay = o.trace ? { trace: o.trace, prepared: tierTracePlan(plan, o.trace) } : null;
  const devices = o.lab ? tierLabDevices(allowedCpus(), o.limits.cloud) : undefined;
  if (devices) {
    checkLimits('--cloud', devices.cloud);
    requireCgroups("the three-tier lab's devices");
  }
  if (o.shaping) await checkNetem(o.conditions);
  await checkResume(o.resume);
  await checkInputFiles(o);
  await removeLeftovers(log);
  let lab: TierLab | null = null;
  let device: Device | null = null;
  onExitSignal((signal) => log(`dnn-edge: ${signal}: stopping; every completed cell is saved${lab ? ', the lab is removed' : ''} (continue with --resume)`));
  let file: string;
  try {
    let { host, port } = o;
    if (devices) {
      device = confineSelf('edge', devices.device);
      log(`device (this process): ${describeLimits(devices.device)} (cgroup ${device.name}); edge tier ${describeLimits(devices.edge)}; cloud ${describeLimits(devices.cloud)}`);
      lab = await startTierLab(o.network, endArgs(o), [o.network, ...endArgs(o), '--stressor', o.stressor], { edge: devices.edge, cloud: devices.cloud }, log);
      host = lab.host;
      port = lab.port;
    }
    if (replay) {
      if (!lab) throw new UserError("--tiers 3 --trace replays the trace on the lab's two links: use 'dnn-edge lab <network> --tiers 3 --trace FILE'");
      const t = replay.trace;
      const { file: traced } = await runTierTrace({
        ...o,
        host,
        port,
        iface: lab.deviceIface,
        edge: device ?? undefined,
        ...(lab.relayDevice ? { relayDevice: lab.relayDevice } : {}),
        schedule: t.schedule,
        replay: { file: t.file, scale: t.scale, loop: t.loop, duration_ms: t.schedule.lengthMs, ...(t.link ? { link: t.link } : {}) },
        policies: t.policies,
        profile: t.profile,
        prepared: replay.prepared,
        slotMs: t.slotMs,
        slotSeed,
        links: { device: { iface: lab.deviceIface }, edge: { iface: lab.edgeIface, netns: lab.edgeNetns } },
        setup: { lab: o.lab, shaped: true, design: o.design },
        log,
      });
      log(`report: ./bin/dnn-report ${traced}`);
      return 0;
    }
    const r = await runTiers({
      ...o,
      host,
      port,
      iface: lab ? lab.deviceIface : null,
      edge: device ?? undefined,
      ...(lab?.relayDevice ? { relayDevice: lab.relayDevice } : {}),
      ...(lab ? { controller: lab.controller() } : {}),
      setup: { lab: o.lab, shaped: lab !== null && o.shaping, design: o.design },
      log,
    }, loaded);
    file = r.file;
    log(`${r.stats.cells} cells of ${r.configs.length} configurations, ${r.stats.samples} samples, ${r.stats.retries} samples redone after failures -> ${file}`);
  } catch (e) {
    if (!(e instanceof GiveUp || e instanceof LinkFailure)) throw e;
    log(`dnn-edge: ${e.message}; every cell measured so far is saved (continue with --resume)`);
    if (lab) log(lab.logs().trim().split('\n').slice(-8).map((l) => `lab: ${l}`).join('\n'));
    return 1;
  } finally {
    await lab?.close();
    device?.release();
  }
  printBestConfigs(file);
  log(`full report: ./bin/dnn-report ${file}`);
  return 0;
}
