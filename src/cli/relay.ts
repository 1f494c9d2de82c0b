import { runMain } from './run-main.js';
import { parseRelayOptions } from './relay-options.js';
import { checkPortFree, listenError, watchParent } from './serve-process.js';
import { selectBackend, describeBackend } from '../engine/backend.js';
import { loadNetwork } from '../engine/load-network.js';
import { openRelay } from '../relay/open-relay.js';
import { isLoopback } from '../cloud/token.js';
import { onExitSignal } from '../conditions/cleanup.js';

runMain('dnn-relay', async () => {
  const opts = parseRelayOptions(process.argv.slice(2));
  const log = (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);
  if (opts.port !== 0) await checkPortFree(opts.listen, opts.port, '--listen');
  const backend = await selectBackend(opts.backend, { threads: opts.threads });
  log(describeBackend(backend));
  const network = await loadNetwork(opts.network, { seed: opts.seed, inputShape: opts.inputShape });
  if (network.note) log(`note: ${network.note}`);
  log(`built ${network.id} in ${(network.buildMs / 1000).toFixed(1)} s: ${network.cuts.length} partition points`);
  // the cloud first: a relay that cannot reach it, or serves another network, never listens
  const relay = await openRelay({
    network,
    backend,
    next: { host: opts.nextHost, port: opts.nextPort },
    listen: { host: opts.listen, port: opts.port },
    maxFrame: opts.maxFrame,
    ...(opts.token !== undefined ? { token: opts.token } : {}),
    timeoutMs: opts.timeoutMs,
    giveUpMs: opts.giveUpMs,
    log,
  });
  const c = relay.cloud;
  log(`connected to the cloud at ${opts.nextHost}:${opts.nextPort}: ${c.host} (${c.backend}, ${c.cores} cores) serves ${network.id}, fingerprint ${network.fingerprint.slice(0, 12)} matches`);
  let address;
  try {
    address = await relay.server.listen();
  } catch (e) {
    await relay.close();
    throw listenError(e, opts.listen, opts.port, '--listen');
  }
  // Before the line that says it listens: whoever waits for that line may signal at once.
  const stopped = new Promise<string>((resolve) => {
    onExitSignal(resolve, { endsProcess: true });
    if (opts.parent) watchParent(opts.parent, () => resolve('device gone'));
  });
  log(`listening on ${address.address}:${address.port} (${network.id}, fingerprint ${network.fingerprint.slice(0, 12)}, seed ${network.seed}, relay to ${opts.nextHost}:${opts.nextPort}${opts.token ? ', token required' : ''})`);
  if (!opts.parent && !opts.token && !isLoopback(address.address)) {
    log(`warning: listening on ${address.address}:${address.port} without --token: anyone who reaches this port can run inference here and start stressors on the cloud behind it; set --token (or DNN_TOKEN) on all three tiers, or --listen 127.0.0.1`);
  }
  log(`${await stopped}: closing`);
  await relay.close();
  log('closed');
});
