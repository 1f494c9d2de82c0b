import os from 'node:os';
import type { HostInfo } from './protocol/messages.js';

/** The machine this process runs on, as recorded in results and exchanged in HELLO/WELCOME. */
export function hostInfo(): HostInfo {
  const cpus = os.cpus();
  return { host: os.hostname(), cpu: cpus[0]?.model.trim() ?? 'unknown', cores: cpus.length, mem: os.totalmem() };
}
