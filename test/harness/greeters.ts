/**
 * Several Greeter instances as one disposable group.
 *
 * @example
 *   await using greeters = await startGreeters(2, { idPrefix: 'greeter' });
 *   const [a, b] = greeters; // ids greeter-0, greeter-1
 */
import { startGreeter, type Greeter } from '../../src/demo/greeter.ts';
import type { Logger } from '../../src/lib/logger.ts';

export type GreeterGroup = readonly Greeter[] & {
  /** Graceful stop of every greeter (in parallel). */
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
};

export async function startGreeters(
  n: number,
  { idPrefix = 'greeter', host, logger }: { idPrefix?: string; host?: string; logger?: Logger } = {},
): Promise<GreeterGroup> {
  const started = await Promise.allSettled(
    Array.from({ length: n }, (_, i) => startGreeter({ id: `${idPrefix}-${i}`, host, logger })),
  );
  const greeters = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const stop = async () => {
    await Promise.all(greeters.map((g) => g.stop()));
  };
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await stop();
    throw failed.reason;
  }
  return Object.assign(greeters, { stop, [Symbol.asyncDispose]: stop });
}
