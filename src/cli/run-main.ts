import { isUserError, errorMessage } from '../errors.js';
import { HelpRequested } from './common.js';

/**
 * Runs a command's main function with the project's exit-code contract:
 * --help prints and exits 0, user mistakes print one line and exit 2, anything else is a bug and
 * keeps its stack (exit 1).
 */
export function runMain(command: string, main: () => Promise<number | void>): void {
  main().then(
    (code) => {
      if (typeof code === 'number') process.exitCode = code;
    },
    (e: unknown) => {
      if (e instanceof HelpRequested) {
        process.stdout.write(e.text);
        process.exitCode = 0;
      } else if (isUserError(e)) {
        process.stderr.write(`${command}: ${e.message}\n`);
        process.exitCode = 2;
        // a refusal met mid-way (a cloud that refused a condition) may leave its socket open: do not wait
        // on it ('exit' undoes every change to the machine); unref'd, so a clean exit is not delayed
        setTimeout(() => process.exit(2), 1000).unref();
      } else {
        process.stderr.write(`${command}: internal error: ${errorMessage(e)}\n`);
        if (e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
        // a bug may leave a socket or a timer open that would keep the process alive: end it ('exit'
        // still undoes every change to the machine; completed cells are already on disk)
        process.exit(1);
      }
    },
  );
}
