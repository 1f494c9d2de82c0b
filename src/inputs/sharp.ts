import type SharpModule from 'sharp';

let loaded: Promise<typeof SharpModule> | undefined;

/**
 * sharp (libvips, native), loaded on first use: importing it costs ~0.2 s of CPU, which a process
 * that never touches an image does not pay (a cloud serving tensors, a command that stops at a bad
 * argument). Callers load it outside their own error handling, so that a broken install is not
 * reported as a bad image.
 */
export function loadSharp(): Promise<typeof SharpModule> {
  loaded ??= import('sharp').then((m) => m.default);
  return loaded;
}
