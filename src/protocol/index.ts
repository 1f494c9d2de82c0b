export * from './constants.js';
export * from './errors.js';
export * from './tensor.js';
export * from './messages.js';
export { FrameReader, type FrameReaderOptions, type RawFrame } from './frame-reader.js';
export { encodeFrame, writeFrame, type FrameSink } from './frame-writer.js';
export { Connection, connect, type ConnectionOptions } from './connection.js';
