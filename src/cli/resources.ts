/**
 * What `serve` started, stopped in reverse order on shutdown. Anything added after shutdown began (a start that
 * was still in flight when the signal came) is stopped at once, so nothing outlives the process.
 * @module
 */
import { errorMessage } from '../lib/errors.ts';
import type { Logger } from '../lib/logger.ts';

interface Entry {
  readonly name: string;
  readonly stop: () => Promise<void> | void;
}

export interface Resources {
  add(name: string, stop: () => Promise<void> | void): void;
  /** True once `close` was called: starting code should stop starting things. */
  readonly closing: boolean;
  /** Stops everything; never rejects (failures are logged). Returns whether every stop succeeded. */
  close(): Promise<boolean>;
}

export function createResources(logger: Logger): Resources {
  const stack: Entry[] = [];
  const late: Promise<boolean>[] = [];
  let closed: Promise<boolean> | undefined;

  const stopOne = async ({ name, stop }: Entry): Promise<boolean> => {
    try {
      await stop();
      logger.debug(`stopped ${name}`);
      return true;
    } catch (e) {
      logger.error(`stopping ${name} failed`, { error: errorMessage(e) });
      return false;
    }
  };

  const closeAll = async (): Promise<boolean> => {
    let clean = true;
    for (let entry = stack.pop(); entry; entry = stack.pop()) clean = (await stopOne(entry)) && clean;
    // Resources whose start finished during the shutdown above.
    for (let i = 0; i < late.length; i++) clean = (await late[i]!) && clean;
    return clean;
  };

  return {
    add(name, stop) {
      if (closed) late.push(stopOne({ name, stop }));
      else stack.push({ name, stop });
    },
    get closing() {
      return closed !== undefined;
    },
    close: () => (closed ??= closeAll()),
  };
}
