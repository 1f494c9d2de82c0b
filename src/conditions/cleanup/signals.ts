/** The signals that end a run and after which it must still put the machine back. */
const EXIT_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

let hooked = false;

/**
 * Runs `undo` on every way out of the process: normal exit, uncaught exceptions and unhandled
 * rejections (Node emits 'exit' for both, keeping exit code 1), and SIGINT/SIGTERM/SIGHUP.
 * `undo` must be synchronous ('exit' runs nothing asynchronous). Installs once per process.
 */
export function undoOnEveryExit(undo: () => void): void {
  if (hooked) return;
  hooked = true;
  const onSignal = (signal: NodeJS.Signals): void => {
    undo();
    for (const s of EXIT_SIGNALS) process.removeListener(s, onSignal);
    // Die of the same signal so that the parent sees the usual status (130 for SIGINT, 143 for SIGTERM).
    // Other listeners (signal-exit, say) see it once more; with ours gone, Node's default ends the process.
    process.kill(process.pid, signal);
  };
  process.on('exit', undo);
  for (const s of EXIT_SIGNALS) process.on(s, onSignal);
}
