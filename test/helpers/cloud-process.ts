import { execa, type ResultPromise } from 'execa';
import net from 'node:net';
import path from 'node:path';
import { ROOT } from './cli.js';

export interface CloudProcess {
  proc: ResultPromise;
  port: number;
  log: () => string;
}

/** A free TCP port on loopback (for a cloud that must come back on the same port). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** Starts a real dnn-cloud and resolves once it listens (port 0 = any free port). */
export async function startCloud(network: string, args: string[] = [], port = 0): Promise<CloudProcess> {
  const proc = execa(path.join(ROOT, 'bin/dnn-cloud'), [network, '--host', '127.0.0.1', '--port', String(port), ...args], {
    reject: false,
    env: { NODE_OPTIONS: '' },
    stdin: 'ignore',
  });
  let text = '';
  proc.stderr!.on('data', (d: Buffer) => (text += d.toString()));
  const listening = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`dnn-cloud did not start:\n${text}`)), 120_000);
    const check = () => {
      const m = /listening on [\d.]+:(\d+)/.exec(text);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    proc.stderr!.on('data', check);
    void proc.then(() => {
      clearTimeout(timer);
      reject(new Error(`dnn-cloud exited before listening:\n${text}`));
    });
  });
  return { proc, port: listening, log: () => text };
}

export async function stopCloud(c: CloudProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  c.proc.kill(signal);
  await c.proc;
}
