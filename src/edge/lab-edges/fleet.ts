import { fileURLToPath } from 'node:url';
import type { ResultPromise } from 'execa';
import { addEdgeNetwork, type EdgeNetwork, type LabNetwork } from '../../conditions/netns.js';
import { registerChange, type Registration } from '../../conditions/cleanup.js';
import { readProcStat } from '../../conditions/proc.js';
import type { DeviceLimits } from '../../conditions/cgroup.js';
import { makeDevice, type Device } from '../../conditions/device.js';
import type { ResultsWriter } from '../../results/log-writer.js';
import { decodeCellHistograms, openChannel, type Channel, type FromFollower, type ToFollower, type WireCell } from './ipc.js';
import type { EdgeRole } from './role.js';

const FOLLOWER_JS = fileURLToPath(new URL('../../cli/edge-follower.js', import.meta.url));
/** Lines of a follower's log kept to explain its failure. */
const LOG_TAIL = 8;

/** The addresses the cloud's log says edges said HELLO from, in order (one per connection). */
export function cloudClients(cloudLog: string): string[] {
  return [...cloudLog.matchAll(/client \d+ \(([^)]+?):\d+\): HELLO from /g)].map((m) => m[1]!);
}

/** An edge of the lab failed or left: the run stops (the cells written so far are kept). */
export class EdgeFailure extends Error {}

export interface FleetOptions {
  /** the lab's network (the cloud's namespace) and the cloud's port */
  network: LabNetwork;
  port: number;
  /** N: edges in all, this process (edge 0) included */
  edges: number;
  /** the lab's own dnn-edge arguments: every follower measures the same plan */
  argv: string[];
  /** the order's seed, fixed before the followers start so that all edges shuffle alike */
  orderSeed: number;
  /** each follower's device (edge 0's is this process's) */
  limits: DeviceLimits;
  /** shape each follower's veth (the lab shapes) */
  shaping: boolean;
  /** edge 0's device: its CPU time after --edge-slowdown's calibration is given to every follower */
  calibrated?: Device;
  log: (line: string) => void;
}

interface Follower {
  index: number;
  network: EdgeNetwork;
  device: Device;
  proc: ResultPromise;
  reg: Registration;
  channel: Channel<ToFollower>;
  /** the barrier it waits at, if any */
  at: string | null;
  finished: boolean;
  /** what its sweep measured (its `done` message) */
  stats?: { cells: number; samples: number; retries: number };
  tail: string[];
}

/**
 * The lab's edges 1..N-1 (`--edges N`), seen from edge 0 (this process): each a follower process
 * in its own namespace (a veth of its own to the cloud's namespace) and its own cgroup, started
 * there at once and registered for clean-up like the lab's cloud. Provides edge 0's role: the
 * barrier all edges pass together, and the writing of the followers' cells into the one file.
 */
export class EdgeFleet {
  private readonly followers: Follower[] = [];
  private failure: EdgeFailure | null = null;
  private writer: ResultsWriter | null = null;
  private writes: Promise<void> = Promise.resolve();
  private quotaGiven = false;
  private onChange: () => void = () => undefined;

  private constructor(private readonly o: FleetOptions) {}

  /** Starts the followers and waits until each is connected, warmed up and at the first barrier. */
  static async start(o: FleetOptions): Promise<EdgeFleet> {
    const fleet = new EdgeFleet(o);
    try {
      for (let i = 1; i < o.edges; i++) await fleet.startFollower(i);
      await fleet.until(() => fleet.followers.every((f) => f.at !== null));
      o.log(`lab: ${o.edges - 1} more edge${o.edges > 2 ? 's' : ''} connected and warmed up (${fleet.followers.map((f) => `edge ${f.index} in ${f.network.netns}`).join(', ')})`);
    } catch (e) {
      await fleet.close();
      throw e;
    }
    return fleet;
  }

  /** Edge 0's part: the barrier, the followers' cells into the file, their end awaited. */
  role(): EdgeRole {
    return {
      index: 0,
      barrier: (key) => this.barrier(key),
      writing: (writer) => {
        this.writer = writer;
      },
      finish: () => this.finish(),
    };
  }

  private async startFollower(index: number): Promise<void> {
    const network = await addEdgeNetwork(this.o.network, index);
    let device: Device | null = null;
    let proc: ResultPromise | null = null;
    let reg: Registration | null = null;
    try {
      device = makeDevice('edge', this.o.limits);
      proc = network.spawnInNetns(process.execPath, [FOLLOWER_JS, '--edge-index', String(index)], {
        detached: true,
        reject: false,
        buffer: false,
        env: { NODE_OPTIONS: '' },
      });
      const pid = proc.pid!;
      reg = registerChange({ kind: 'process-group', pid, startTime: readProcStat(pid)?.startTime ?? 0, what: `lab edge ${index}`, graceful: true });
      // at once: it has loaded nothing yet, and what it starts (stressors) is born inside
      device.attach(pid);
    } catch (e) {
      proc?.kill('SIGKILL');
      reg?.undo();
      device?.release();
      await network.teardown();
      throw e;
    }
    const f: Follower = { index, network, device, proc, reg, at: null, finished: false, tail: [], channel: null as unknown as Channel<ToFollower> };
    const keep = (line: string) => {
      f.tail.push(line);
      if (f.tail.length > LOG_TAIL) f.tail.shift();
      this.o.log(`edge ${index}: ${line}`);
    };
    f.channel = openChannel<FromFollower, ToFollower>(proc.stdout!, proc.stdin!, (m) => this.message(f, m), keep);
    proc.stderr!.setEncoding('utf8');
    let partial = '';
    proc.stderr!.on('data', (d: string) => {
      const lines = (partial + d).split('\n');
      partial = lines.pop()!;
      for (const l of lines) if (l.trim()) keep(l);
    });
    void proc.then(async (r) => {
      await f.channel.closed; // its last messages first
      if (!f.finished) this.fail(new EdgeFailure(`edge ${index} ended (${r.exitCode ?? r.signal}) before its sweep did${f.tail.length ? `: ${f.tail.at(-1)}` : ''}`));
    });
    this.followers.push(f);
    f.channel.send({
      t: 'start',
      index,
      argv: this.o.argv,
      host: network.cloudAddress,
      port: this.o.port,
      iface: this.o.shaping ? network.edgeIface : null,
      orderSeed: this.o.orderSeed,
      limits: this.o.limits,
    });
  }

  private message(f: Follower, m: FromFollower): void {
    if (m.t === 'at') f.at = m.key;
    else if (m.t === 'cell') this.write(f, m.cell);
    else if (m.t === 'done') {
      f.finished = true;
      f.stats = { cells: m.cells, samples: m.samples, retries: m.retries };
    }
    else if (m.t === 'failed') {
      f.finished = true;
      this.fail(new EdgeFailure(`edge ${f.index}: ${m.message}`));
    }
    this.onChange();
  }

  private write(f: Follower, cell: WireCell): void {
    this.writes = this.writes.then(async () => {
      if (!this.writer) throw new Error(`bug: edge ${f.index} sent a cell before the results file was open`);
      const h = decodeCellHistograms(cell);
      try {
        const { stream, frames, scenario } = cell;
        if (stream && frames && scenario) await this.writer.appendStreamCell({ ...cell, histograms: h, stream, frames, scenario });
        else await this.writer.appendCell(cell.condition, cell.cut, h, cell.startMs, cell.endMs, cell.ref, cell.codec, f.index);
      } finally {
        for (const x of Object.values(h)) x?.destroy();
      }
    });
    this.writes.catch((e: Error) => this.fail(new EdgeFailure(`writing edge ${f.index}'s cell: ${e.message}`)));
  }

  private fail(e: EdgeFailure): void {
    this.failure ??= e;
    this.onChange();
  }

  /** Resolves when `done()` holds; rejects with the first failure. */
  private until(done: () => boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.failure) reject(this.failure);
        else if (done()) resolve();
        else return;
        this.onChange = () => undefined;
      };
      this.onChange = check;
      check();
    });
  }

  /** Edge 0 is at `key`: resolves once every follower is there too, and lets them all go. */
  private async barrier(key: string): Promise<void> {
    this.giveQuota();
    await this.until(() => {
      const other = this.followers.find((f) => f.at !== null && f.at !== key);
      if (other) this.failure ??= new EdgeFailure(`edge ${other.index} is at '${other.at}' while edge 0 is at '${key}' (one edge measured a cell again after a link failure, or their plans differ)`);
      return this.failure === null && this.followers.every((f) => f.at === key);
    });
    for (const f of this.followers) {
      f.at = null;
      f.channel.send({ t: 'go', key });
    }
  }

  /** --edge-slowdown: edge 0 calibrated its CPU time before its first barrier; every edge gets the same. */
  private giveQuota(): void {
    if (this.quotaGiven) return;
    this.quotaGiven = true;
    const cores = this.o.calibrated?.limits.cpus;
    if (cores === undefined) return;
    for (const f of this.followers) {
      f.device.setCpus(cores);
      f.channel.send({ t: 'cpus', cores });
    }
    this.o.log(`lab: every edge gets edge 0's calibrated ${+cores.toFixed(4)} cores of CPU time`);
  }

  /** After edge 0's sweep: every follower's sweep ended and its cells are written. */
  private async finish(): Promise<void> {
    await this.until(() => this.followers.every((f) => f.finished));
    await this.writes;
    if (this.failure) throw this.failure;
  }

  /** One line: what the followers measured. */
  summary(): string {
    const sum = (k: 'cells' | 'samples' | 'retries') => this.followers.reduce((n, f) => n + (f.stats?.[k] ?? 0), 0);
    return `${this.o.edges === 2 ? 'edge 1' : `edges 1-${this.o.edges - 1}`}: ${sum('cells')} cells, ${sum('samples')} samples, ${sum('retries')} samples redone after failures`;
  }

  /** Ends every follower (SIGTERM: it undoes its own stress and shaping), then its cgroup and namespace. */
  async close(): Promise<void> {
    await Promise.all(
      this.followers.map(async (f) => {
        const { proc } = f;
        if (proc.exitCode === null && proc.signalCode === null) {
          proc.stdin?.end();
          proc.kill('SIGTERM');
          const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
          await proc;
          clearTimeout(timer);
        }
        f.reg.undo();
        f.device.release();
        await f.network.teardown();
      }),
    );
  }
}
