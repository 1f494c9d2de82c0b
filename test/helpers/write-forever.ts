// Child process for the kill test: writes cells until killed, printing one line per completed cell.
import { NO_CONDITION } from '../../src/conditions/condition.js';
import { ResultsWriter } from '../../src/results/log-writer.js';
import { cellHistograms, sampleMeta } from './results.js';

const path = process.argv[2]!;
const writer = await ResultsWriter.create(path, sampleMeta('lenet', ['c']));
for (let i = 0; ; i++) {
  await writer.appendCell({ ...NO_CONDITION, ecpu: i }, 'c', cellHistograms({ edge: 1, transfer: 1, cloud: 1, total: 3 }, 200), Date.now(), Date.now() + 1);
  process.stdout.write(`${i}\n`);
}
