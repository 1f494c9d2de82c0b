/** Real inputs for a run: camera frames from photographs (or random), each model's preprocessing, and the frame encodings at the input point. */
export { DEFAULT_IMAGES_DIR, inputFileLabel, isImageFileName, parseInputs, type InputsSpec } from './image-files.js';
export type { Frame, FrameSize } from './frame.js';
export { inputsMeta, loadFrames, type InputsMeta } from './frames.js';
export { conventionOf, describeModes, frameSize, parsePreprocess, PREPROCESS_MODES, toTensor, type Convention, type Layout, type PreprocessMode } from './preprocess.js';
export { loadSharp } from './sharp.js';
export { DEFAULT_QUALITY, decodeFrame, encodeFrame, parseInputCodecList, type InputCodec, type InputCodecName } from './input-codecs.js';
