/** Fidelity, measured: how far each (point, codec) pair's output is from the float32 model's (the same split, unencoded). */
export { TOP_K, TOP5_DEFINITION, agreement, maxAbsDiff, relativeL2, topK } from './compare.js';
export { FidelityTally, type FidelityRecord } from './record.js';
export { encodeOptionsFor, measureTensorCodecs, type FidelityProgress } from './measure-tensors.js';
export { measureFidelity, measureFidelityOnTensors, type FidelityCodecs } from './measure-fidelity.js';
export { formatFidelityTable, withFidelity, type CodecFidelity, type FidelityCutReport, type FidelityInputs } from './fidelity-report.js';
