import net from 'node:net';
import { UserError } from '../errors.js';
import { isSameProcess } from '../conditions/proc.js';

/* What the serving commands (dnn-cloud, dnn-relay) share around their listening socket and their life. */

/** What a failed listen means for the user (a UserError), or the error itself. */
export function listenError(e: unknown, host: string, port: number, hostFlag = '--host'): unknown {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') return new UserError(`port ${port} on ${host} is already in use; stop what holds it or pick another --port`);
  if (code === 'EADDRNOTAVAIL') return new UserError(`cannot listen on ${host}: no such address on this machine; use ${hostFlag} 0.0.0.0`);
  if (code === 'EACCES') return new UserError(`not allowed to listen on port ${port}; use a port above 1023 or run as root`);
  return e;
}

/** Binds and releases the port before the command makes its cgroup or builds its model. */
export async function checkPortFree(host: string, port: number, hostFlag = '--host'): Promise<void> {
  const probe = net.createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', (e) => reject(listenError(e, host, port, hostFlag)));
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve()));
  });
}

/** Polls the lab's edge process; a kill -9 of the edge must not leave this cloud (or relay) and its stress running. */
export function watchParent({ pid, start }: { pid: number; start: number }, onGone: () => void): void {
  const timer = setInterval(() => {
    if (!isSameProcess(pid, start)) {
      clearInterval(timer);
      onGone();
    }
  }, 500);
  timer.unref();
}
