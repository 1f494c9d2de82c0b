import { runMain } from './run-main.js';
import { parseEdgeOptions, type EdgeOptions } from './edge-options.js';
import { runEdge, type EdgeRunResult } from '../edge/run-edge.js';
import { GiveUp, LinkFailure } from '../edge/cloud-link.js';
import { startLab, type Lab } from '../edge/lab.js';
import { printBestPoints } from '../edge/quick-summary.js';
import { FACTOR } from '../conditions/factors.js';
import { StressError, protectFromOom } from '../conditions/stress.js';
import { interfaceFor } from '../conditions/tc.js';
import { cleanupLeftovers } from '../conditions/cleanup.js';
import { isRoot } from '../conditions/proc.js';
import { UserError } from '../errors.js';

/** dnn-edge: the wiring around parseEdgeOptions and runEdge (privileges, leftovers, signals, the lab, exit codes). */

type Log = (line: string) => void;

/** Refuses, before anything is changed, what needs root when we are not root. */
function checkPrivileges(o: EdgeOptions): void {
  if (o.lab && !isRoot()) throw new UserError("the lab (host 'lab') creates a network namespace and needs root: run with sudo");
  if (o.shaping && !isRoot()) throw new UserError(`shaping the network (tc) needs root: run with sudo, or pass --no-shape to measure the network as it is (${FACTOR.net.flag} levels are then ignored)`);
}

/**
 * What a run killed with -9 left behind goes first (our qdiscs, namespaces, stressors). A killed
 * lab cloud's own stressors are listed in its state file: a second pass finds them.
 */
async function removeLeftovers(log: Log): Promise<void> {
  for (let pass = 0; pass < 3; pass++) {
    const removed = cleanupLeftovers();
    for (const line of removed) log(`removed what a killed run left: ${line}`);
    if (!removed.some((l) => /process group/.test(l))) break;
    await new Promise((r) => setTimeout(r, 300));
  }
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
  return [o.network, '--backend', o.backend, ...(o.threads ? ['--threads', String(o.threads)] : []), '--seed', String(o.seed), '--stressor', o.stressor, ...(o.inputShape ? ['--input-shape', o.inputShape.join('x')] : [])];
}

/** A run that ended because the cloud or a stressor failed: what is measured is saved, exit 1. */
function endedEarly(e: unknown): e is Error {
  return e instanceof GiveUp || e instanceof LinkFailure || e instanceof StressError;
}

runMain('dnn-edge', async () => {
  const o = parseEdgeOptions(process.argv.slice(2));
  const log: Log = (line) => process.stderr.write(`${line}\n`);
  checkPrivileges(o);
  await removeLeftovers(log);
  if (!protectFromOom()) log("note: cannot lower this process's OOM score here; memory stressors still volunteer to be killed first");

  let lab: Lab | null = null;
  const interrupted = (signal: string) => log(`dnn-edge: ${signal}: stopping; every completed cell is saved${lab ? ', the lab is removed' : ''} (continue with --resume)`);
  process.once('SIGINT', () => interrupted('SIGINT'));
  process.once('SIGTERM', () => interrupted('SIGTERM'));

  let result: EdgeRunResult;
  try {
    let { host, port } = o;
    if (o.lab) {
      lab = await startLab(labCloudArgs(o), log);
      host = lab.host;
      port = lab.port;
    }
    const iface = await shapedInterface(o, host, lab);
    if (iface) log(`shaping egress of ${iface} towards ${host}`);
    result = await runEdge({
      ...o,
      host,
      port,
      iface,
      setup: { lab: o.lab, shaped: Boolean(iface), design: o.design, quick: o.quick },
      log,
    });
  } catch (e) {
    if (!endedEarly(e)) throw e;
    log(`dnn-edge: ${e.message}; every cell measured so far is saved (continue with --resume)`);
    if (lab) log(lab.cloudLog().trim().split('\n').slice(-5).map((l) => `cloud: ${l}`).join('\n'));
    return 1;
  } finally {
    await lab?.close();
  }
  const { stats, file } = result;
  log(`${stats.cells} cells, ${stats.samples} samples, ${stats.retries} samples redone after failures -> ${file}`);
  if (o.quick) printBestPoints(file);
  log(`full report: ./bin/dnn-report ${file}`);
});
