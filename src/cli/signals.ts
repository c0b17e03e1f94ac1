/**
 * SIGINT/SIGTERM: the first stops cleanly and exits 0; a second one forces the exit.
 * @module
 */
import type { Logger } from '../lib/logger.ts';

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
/**
 * Ctrl-C under `npx` reaches this process up to three times within milliseconds (terminal, npm, bin shim), so
 * repeats inside this window are one signal, not a request to force the exit.
 */
const SAME_SIGNAL_MS = 500;

export function onShutdownSignal(logger: Logger, shutdown: (signal: string) => Promise<number>): void {
  let firstAt: number | undefined;
  const handle = (signal: NodeJS.Signals) => {
    const now = Date.now();
    if (firstAt === undefined) {
      firstAt = now;
      logger.info(`${signal} received, stopping (send it again to force)`);
      void shutdown(signal).then((code) => process.exit(code));
      return;
    }
    if (now - firstAt < SAME_SIGNAL_MS) return;
    logger.warn(`${signal} received again, exiting without cleanup`);
    process.exit(1);
  };
  for (const s of SIGNALS) process.on(s, handle);
}
