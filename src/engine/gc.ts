import v8 from 'node:v8';
import vm from 'node:vm';

let gc: (() => void) | undefined;

/**
 * A full garbage collection now. Large typed arrays (model weights) go back to the OS only when
 * V8 collects them, which may come long after they were dropped; a process about to allocate as
 * much again (ONNX Runtime sessions after the TF.js weights are released) collects first, so its
 * peak memory stays one copy of the weights.
 */
export function collectGarbage(): void {
  if (!gc) {
    v8.setFlagsFromString('--expose-gc');
    gc = vm.runInNewContext('gc') as () => void;
  }
  gc();
}
