/** The signals that end a run and after which it must still put the machine back. */
const EXIT_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

type SignalHandler = (signal: NodeJS.Signals) => void;

let undo: (() => void) | null = null;
const handlers: { fn: SignalHandler; endsProcess: boolean }[] = [];
let hooked = false;
let signalled = false;

/**
 * On an exit signal: the handlers (a note to the user, a server starting to close), then the undo,
 * then, unless a handler ends the process itself, death by the same signal, so that the parent
 * sees the usual status (130 for SIGINT, 143 for SIGTERM) and nothing runs on a machine already
 * put back (a sweep retrying a sample would reach for a lab address that no longer exists).
 */
function onSignal(signal: NodeJS.Signals): void {
  const again = signalled;
  signalled = true;
  if (!again) {
    for (const h of handlers) {
      try {
        h.fn(signal);
      } catch (e) {
        process.stderr.write(`${String(e)}\n`);
      }
    }
  }
  undo?.();
  if (!again && handlers.some((h) => h.endsProcess)) return; // it closes gracefully; a second signal ends it now
  // Every listener goes, so Node restores the default action and the signal below ends the process
  // at once (re-raised with any other listener left, Node would catch it and the process live on).
  for (const s of EXIT_SIGNALS) process.removeAllListeners(s);
  process.kill(process.pid, signal);
}

function hook(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => undo?.());
  for (const s of EXIT_SIGNALS) process.on(s, onSignal);
}

/**
 * Runs `undoFn` on every way out of the process: normal exit, uncaught exceptions and unhandled
 * rejections (Node emits 'exit' for both, keeping exit code 1), and SIGINT/SIGTERM/SIGHUP.
 * It must be synchronous ('exit' runs nothing asynchronous) and safe to call more than once.
 */
export function undoOnEveryExit(undoFn: () => void): void {
  undo = undoFn;
  hook();
}

/**
 * `fn` runs when SIGINT, SIGTERM or SIGHUP arrives, before the machine is put back. Use this, not
 * process.on(signal): the process then dies of the signal, unless `endsProcess` says that `fn`
 * ends it (a server closing its connections; 'exit' undoes what is left, a second signal ends it).
 */
export function onExitSignal(fn: SignalHandler, opts: { endsProcess?: boolean } = {}): void {
  handlers.push({ fn, endsProcess: opts.endsProcess ?? false });
  hook();
}
