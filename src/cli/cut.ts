import { runMain } from './run-main.js';
import { DEFAULT_INPUT, parseCutOptions, type CutFidelityOptions } from './cut-options.js';
import { selectBackend, describeBackend } from '../engine/backend.js';
import { loadNetwork } from '../engine/load-network.js';
import { cutReport, formatCutTable } from '../model/cut-report.js';
import { benchmarkInput, createSplitRunner, type SplitRunner } from '../engine/split-runner.js';
import { verifySplits } from '../engine/verify.js';
import { selectCutsOrThrow } from '../model/partition.js';
import type { Network } from '../model/network.js';
import { UserError } from '../errors.js';
import { conventionOf, frameSize, loadFrames, parseInputCodecList } from '../inputs/index.js';
import { formatFidelityTable, measureFidelity, measureFidelityOnTensors, withFidelity, type FidelityCutReport, type FidelityInputs, type FidelityProgress, type FidelityRecord } from '../fidelity/index.js';

runMain('dnn-cut', async () => {
  const o = parseCutOptions(process.argv.slice(2));
  const backend = await selectBackend(o.backend, { threads: o.threads });
  process.stderr.write(`${describeBackend(backend)}\n`);
  const network = await loadNetwork(o.network, { seed: o.seed, inputShape: o.inputShape });
  if (network.note) process.stderr.write(`note: ${network.note}\n`);
  const plan = o.fidelity ? await planFidelity(network, o.network, o.fidelity, o.seed) : undefined;
  let verified;
  let fidelity: FidelityRecord[] | undefined;
  if (o.verify || plan) {
    const runner = createSplitRunner(network);
    try {
      if (o.verify) verified = await verifySplits(network, runner);
      if (plan) fidelity = await plan.measure(runner);
    } finally {
      await runner.dispose();
    }
  }
  const report = cutReport(network, backend.name, verified);
  const full: FidelityCutReport | undefined = plan && fidelity ? withFidelity(report, fidelity, plan.inputs) : undefined;
  if (o.json) process.stdout.write(`${JSON.stringify(full ?? report)}\n`);
  else process.stdout.write(full ? `${verified ? `${formatCutTable(report)}\n` : ''}${formatFidelityTable(full)}` : formatCutTable(report));
  if (verified && verified.failed.length > 0) {
    process.stderr.write(`dnn-cut: ${verified.failed.length} of ${network.cuts.length} points do not reproduce the full model; do not trust timings of those splits\n`);
    process.exitCode = 1;
  }
});

/** What the figures are over, and the measurement itself (on the runner dnn-cut opens). */
interface FidelityPlan {
  inputs: Omit<FidelityInputs, 'top5_definition'>;
  measure: (runner: SplitRunner) => Promise<FidelityRecord[]>;
}

/**
 * Everything --codecs needs, checked and loaded before any inference: the points, the inputs (a
 * bad image file is a user error here) and the preprocessing. Networks whose input is not an
 * image measure on seeded random tensors (--inputs random), with f32 only at the input point.
 */
async function planFidelity(network: Network, networkArg: string, f: CutFidelityOptions, seed: number): Promise<FidelityPlan> {
  const cuts = selectCutsOrThrow(network.cuts, f.cuts, network.id, networkArg);
  const progress = (started: number) => (p: FidelityProgress) =>
    process.stderr.write(`fidelity: [${p.done}/${p.total}] ${p.cut} (${((performance.now() - started) / 1000).toFixed(1)} s)\n`);
  if (f.inputs.kind === 'random' && !isImage(network)) {
    if (f.input?.some((c) => c.name !== 'f32')) {
      throw new UserError(`${network.id}'s input [${network.inputShape.join(', ')}] is not an image: at the input point only --input-codec raw-f32 can be measured`);
    }
    const tensors = Array.from({ length: f.frames }, (_, i) => benchmarkInput(network.inputShape, seed + i));
    const inputs = { frames: f.frames, inputs: ['random'], preprocess: 'raw', layout: network.source === 'onnx' ? ('nchw' as const) : ('nhwc' as const) };
    return {
      inputs,
      measure: (runner: SplitRunner) => {
        process.stderr.write(`fidelity: ${cuts.length} points x (${f.inner.map((c) => c.name).join(',')}) over ${f.frames} seeded random tensors\n`);
        return measureFidelityOnTensors(runner, network, cuts, f.inner, tensors, progress(performance.now()));
      },
    };
  }
  const convention = conventionOf(network, f.preprocess);
  const input = f.input ?? parseInputCodecList(DEFAULT_INPUT);
  const frames = (await loadFrames(f.inputs, frameSize(network), { atLeast: f.frames, seed })).slice(0, f.frames);
  const inputs = {
    frames: frames.length,
    inputs: f.inputs.kind === 'random' ? ['random'] : frames.map((fr) => fr.source),
    preprocess: convention.mode,
    layout: convention.layout,
  };
  return {
    inputs,
    measure: (runner: SplitRunner) => {
      const codecs = `${f.inner.map((c) => c.name).join(',')} inside, ${input.map((c) => c.label).join(',')} at the input`;
      process.stderr.write(`fidelity: ${cuts.length} points, ${codecs}, over ${frames.length} frames; preprocess ${convention.why}\n`);
      return measureFidelity(runner, network, cuts, { inner: f.inner, input }, frames, convention, progress(performance.now()));
    },
  };
}

/** H x W x 1|3 (NHWC) or 1|3 x H x W (ONNX, NCHW): what camera frames can feed. */
function isImage(network: Network): boolean {
  const s = network.inputShape;
  const channels = network.source === 'onnx' ? s[0] : s[2];
  return s.length === 3 && (channels === 1 || channels === 3);
}
