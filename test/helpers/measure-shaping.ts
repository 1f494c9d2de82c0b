// Prints transfer times under a shaping: node dist/test/helpers/measure-shaping.js RATE BYTES... (root).
import { createLabNetwork } from '../../src/conditions/netns.js';
import { applyShaping } from '../../src/conditions/tc.js';
import { timedTransfer } from './transfer.js';

const rate = Number(process.argv[2] ?? 10);
const delay = Number(process.env.DELAY ?? 0), jitter = Number(process.env.JITTER ?? 0), loss = Number(process.env.LOSS ?? 0);
const lab = await createLabNetwork();
try {
  const applied = await applyShaping(lab.edgeIface, { rateMbit: rate, delayMs: delay, jitterMs: jitter, lossPct: loss });
  console.log(applied.commands.join('\n'));
  if (process.env.STUDY) {
    // The published tool's qdisc, for comparison.
    const { execa } = await import('execa');
    await execa('tc', ['qdisc', 'replace', 'dev', lab.edgeIface, 'root', 'handle', 'd1e:', 'tbf', 'rate', `${rate}mbit`, 'burst', '500kbit', 'latency', '50ms']);
    console.log('replaced by the study qdisc: tbf rate R burst 500kbit latency 50ms');
  }
  for (const b of process.argv.slice(3).map(Number)) {
    const s = await timedTransfer(lab, b);
    const ideal = (b * 8) / (rate * 1e6) + delay / 1000;
    console.log(`${b} bytes at ${rate} Mbit/s: ${s.toFixed(4)} s, ideal ${ideal.toFixed(4)} s, ratio ${(s / ideal).toFixed(3)}`);
  }
  await applied.restore();
} finally {
  await lab.teardown();
}
