/**
 * Edge<->cloud wire protocol: length-prefixed frames (16-byte prefix; a fixed binary header for INFER
 * and RESULT and their 16-byte aligned little-endian float32 payload; msgpack for the control
 * messages), typed messages, and a Connection over a net.Socket. docs/protocol.md has the bytes.
 *
 *   const conn = await connect(port, host);                        // edge
 *   const welcome = await conn.request(hello, 'WELCOME');
 *   const cut = welcome.server.cuts.indexOf(layer);
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
export * from './codecs.js';
export * from './messages.js';
export { inferFrameBytes, resultFrameBytes } from './frame-size.js';
export { FrameReader, type FrameDecoder, type FrameReaderOptions } from './frame-reader.js';
export { writeFrame, type FrameSink } from './frame-writer.js';
export { Connection, connect, type ConnectionOptions, type MessageHandler } from './connection.js';
