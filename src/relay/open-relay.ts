import type { Network } from '../model/network.js';
import { PROTOCOL_VERSION } from '../protocol/constants.js';
import type { ServerInfo } from '../protocol/messages.js';
import { CloudServer } from '../cloud/server.js';
import { largestInferFrame } from '../cloud/frame-cap.js';
import { GiveUp } from '../edge/cloud-link.js';
import { ProtocolLink } from '../edge/protocol-link.js';
import { UserError } from '../errors.js';
import { hostInfo } from '../host-info.js';
import { RELAY_BLOCK } from '../protocol/tensor-frame.js';
import { ForwardedStress } from './forwarded-stress.js';
import { RelayService } from './relay-service.js';

export interface RelayOptions {
  network: Network;
  /** the backend this relay computes on (its WELCOME says so) */
  backend: { name: string; versions: Record<string, string> };
  next: { host: string; port: number };
  listen: { host: string; port: number };
  maxFrame: number;
  /** required of devices and presented to the cloud */
  token?: string;
  /** a request to the cloud unanswered this long fails (the device redoes it) */
  timeoutMs: number;
  /** the cloud unreachable this long (at start, or on a reconnect) is an error */
  giveUpMs: number;
  log: (line: string) => void;
}

export interface Relay {
  server: CloudServer;
  link: ProtocolLink;
  /** the cloud's WELCOME */
  cloud: ServerInfo;
  close(): Promise<void>;
}

/**
 * A dnn-relay, not yet listening: connected to its cloud as an ordinary edge (the cloud checks the
 * fingerprint: a relay serves the very network its cloud serves, or does not start), then the
 * cloud's server over the middle tier (RelayService), its CONDITIONs passed on to the cloud.
 * The cloud unreachable for `giveUpMs`, or refusing this relay, is a UserError before anything listens.
 */
export async function openRelay(o: RelayOptions): Promise<Relay> {
  const { network, next } = o;
  const where = `${next.host}:${next.port}`;
  let link: ProtocolLink;
  try {
    link = await ProtocolLink.open({
      host: next.host,
      port: next.port,
      maxFrame: o.maxFrame,
      requestTimeoutMs: o.timeoutMs,
      giveUpMs: o.giveUpMs,
      log: o.log,
      hello: {
        type: 'HELLO',
        version: PROTOCOL_VERSION,
        network: network.id,
        fingerprint: network.fingerprint,
        seed: network.seed,
        backend: o.backend.name,
        client: hostInfo(),
        ...(o.token ? { token: o.token } : {}),
      },
    });
  } catch (e) {
    if (e instanceof GiveUp) throw new UserError(`the next host ${where} ${e.message.replace(/^the cloud at \S+ /, '')}`);
    if (e instanceof UserError) throw new UserError(`the cloud at ${where} refused this relay: ${e.message.replace(/^the cloud refused this edge: /, '')}`);
    throw e;
  }
  const cloud = link.server!;
  if (cloud.relay) {
    await link.close();
    throw new UserError(`${where} is a dnn-relay itself (forwarding to ${cloud.relay.next}); point this relay at the dnn-cloud`);
  }
  const service = new RelayService(network, link, where, o.log);
  const info: ServerInfo = {
    ...hostInfo(),
    backend: o.backend.name,
    versions: { ...o.backend.versions, node: process.versions.node },
    cuts: network.cuts.map((c) => c.layer),
    relay: { next: where, cloud: { host: cloud.host, cpu: cloud.cpu, cores: cloud.cores, mem: cloud.mem, backend: cloud.backend } },
  };
  // the largest two-cut INFER this network takes: the cloud's cap grown by the relay block
  const maxFrame = Math.min(o.maxFrame, largestInferFrame(network.cuts) + RELAY_BLOCK.bytes);
  const server = new CloudServer(service, info, {
    port: o.listen.port,
    host: o.listen.host,
    maxFrame,
    ...(o.token ? { token: o.token } : {}),
    log: o.log,
    stress: new ForwardedStress(link),
    // one request at a time: its compute and the cloud's round trip are what a sample times
    concurrency: 1,
  });
  return {
    server,
    link,
    cloud,
    async close() {
      await server.close().catch(() => {});
      await link.close();
      await service.dispose();
    },
  };
}
