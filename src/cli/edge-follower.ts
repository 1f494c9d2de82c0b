import { runMain } from './run-main.js';
import { parseEdgeOptions } from './edge-options.js';
import { runEdge } from '../edge/run-edge.js';
import { joinLab } from '../edge/lab-edges/follower.js';
import { GiveUp, LinkFailure } from '../edge/cloud-link.js';
import { StressError, protectFromOom } from '../conditions/stress.js';
import { errorMessage } from '../errors.js';

/**
 * dnn-edge's hidden follower mode: edge I (1..N-1) of `dnn-edge lab NET --edges N`, started by the
 * lab inside the edge's own namespace and cgroup. It runs the lab's own arguments (sent on stdin)
 * against the lab's cloud, through its own veth, and hands its cells to the lab.
 */
runMain('dnn-edge (lab edge)', async () => {
  const log = (line: string) => process.stderr.write(`${line}\n`);
  // the lab is gone (killed): end by the signal path, which undoes this edge's stressors and shaping
  const lab = await joinLab(process.stdin, process.stdout, () => process.kill(process.pid, 'SIGTERM'));
  const { start } = lab;
  protectFromOom();
  const o = parseEdgeOptions(start.argv);
  try {
    const r = await runEdge({ ...o, host: start.host, port: start.port, iface: start.iface, orderSeed: start.orderSeed, resume: undefined, setup: {}, log, edges: { count: o.edges, index: start.index }, labEdge: lab.role });
    lab.done(r.stats);
  } catch (e) {
    const early = e instanceof GiveUp || e instanceof LinkFailure || e instanceof StressError;
    lab.failed(errorMessage(e), early);
    return 1;
  }
});
