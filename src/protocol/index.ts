/**
 * Edge<->cloud wire protocol: length-prefixed frames (16-byte prefix, msgpack header, 16-byte aligned
 * little-endian float32 payloads), typed messages, and a Connection over a net.Socket.
 *
 *   const conn = await connect(port, host);                        // edge
 *   const welcome = await conn.request(hello, 'WELCOME');
 *   const result = await conn.request({ type: 'INFER', id, cut, tensor }, 'RESULT');
 *
 *   net.createServer(async (socket) => {                             // cloud
 *     const conn = new Connection(socket);
 *     try { await conn.serve((m) => { ... conn.send(reply) }); }      // or: for await (const m of conn)
 *     catch (e) { ... }  // ProtocolError (peer already told with ERROR) or ConnectionClosedError
 *   });
 */
export * from './constants.js';
export * from './errors.js';
export * from './tensor.js';
export * from './messages.js';
export { FrameReader, type FrameReaderOptions, type RawFrame } from './frame-reader.js';
export { encodeFrame, writeFrame, type FrameSink } from './frame-writer.js';
export { Connection, connect, type ConnectionOptions, type MessageHandler } from './connection.js';
