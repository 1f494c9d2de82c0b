export * from './types.js';
export * from './registry.js';
export { toHalf, fromHalf } from './half.js';
export { channelAxisOf } from './int8-channel.js';
