/**
 * One registered instance inside a registrar: what etcd should hold for it (its key under the current lease, or
 * nothing) and the serialized writes that make etcd match. Every write of a key goes through `sync`, one at a
 * time, so a re-registration racing a drain can never put back a key that was just deleted.
 * @module
 */
import type { Etcd3 } from 'etcd3';
import { EtcdLeaseInvalidError } from 'etcd3';
import { createBackoff, sleep } from '../lib/backoff.ts';
import { errorMessage } from '../lib/errors.ts';
import type { Logger } from '../lib/logger.ts';
import { encodeValue, type CheckedInstance } from './instance.ts';
import { classify } from './etcd-errors.ts';
import { closedError, type LeaseKeeper } from './lease-keeper.ts';
import { DEFAULT_GRACE_MS, checkGrace, type Registration, type RegistrationState } from './api.ts';

export interface EntryContext {
  readonly client: Etcd3;
  readonly keeper: LeaseKeeper;
  readonly logger: Logger;
  readonly retry: { readonly initialMs: number; readonly maxMs: number };
  /** Removes the entry from its registrar. */
  readonly forget: (entry: Entry) => void;
}

export interface Entry {
  readonly instance: CheckedInstance;
  readonly registration: Registration;
  /** register() succeeded: the instance was handed to the caller. */
  readonly confirmed: boolean;
  /** Registered or draining: etcd should hold the key. */
  readonly wantsKey: boolean;
  /**
   * Makes etcd match: puts the key under the current lease with the current value, or deletes it. Retries while
   * etcd is unreachable; resolves true once etcd matches, false when the registrar closed first. With `initial`
   * (the first put, inside register()) errors that retrying cannot fix reject, and so does a closing registrar.
   */
  sync(options?: { initial?: { readonly aborted: () => boolean } }): Promise<boolean>;
  /** For a registration that never completed: forget it and delete its key if it was written. */
  abandon(): Promise<void>;
}

type InternalState = 'registering' | RegistrationState;

export function createEntry(instance: CheckedInstance, { client, keeper, logger, retry, forget }: EntryContext): Entry {
  const { key } = instance;
  let state: InternalState = 'registering';
  let confirmed = false;
  /** What etcd holds for the key as far as we know; undefined: nothing (never written, or deleted). */
  let written: { lease: string; value: string } | undefined;
  let chain: Promise<unknown> = Promise.resolve();
  let draining: Promise<void> | undefined;
  let closing: Promise<void> | undefined;

  const wantsKey = () => state === 'registering' || state === 'registered' || state === 'draining';
  const desiredValue = () => encodeValue(instance, state === 'draining' || state === 'drained');

  function serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = chain.then(fn);
    chain = run.catch(() => undefined);
    return run;
  }

  const sync: Entry['sync'] = ({ initial } = {}) =>
    serial(async () => {
      const backoff = createBackoff(retry);
      for (;;) {
        const stop = initial && (initial.aborted() || state === 'closed');
        if (stop) throw closedError();
        let failure: unknown;
        if (wantsKey()) {
          if (keeper.closed) {
            if (initial) throw closedError();
            return false;
          }
          try {
            const handle = await keeper.acquire();
            if (!wantsKey()) continue; // drained or closed while waiting for a lease
            const value = desiredValue();
            if (written?.lease === handle.id && written.value === value) return true;
            await handle.lease.put(key).value(value);
            written = { lease: handle.id, value };
            return true;
          } catch (e) {
            if (keeper.closed) {
              if (initial) throw closedError();
              return false;
            }
            const { retryable, error } = classify(e, `registering ${key}`);
            if (initial && !retryable) throw error;
            failure = e;
          }
        } else {
          if (written === undefined) return true;
          try {
            await client.delete().key(key);
            written = undefined;
            logger.info('deregistered', { key });
            return true;
          } catch (e) {
            // The lease's revocation or expiry removes the key instead.
            if (keeper.closed) return false;
            failure = e;
          }
        }
        const delay = backoff.next();
        if (!(failure instanceof EtcdLeaseInvalidError)) {
          const action = wantsKey() ? 'register' : 'delete';
          logger.warn(`could not ${action} ${key}; retrying in ${delay} ms`, { error: errorMessage(failure) });
        }
        await keeper.sleep(delay);
      }
    });

  const drain = ({ graceMs = DEFAULT_GRACE_MS }: { graceMs?: number } = {}): Promise<void> => {
    checkGrace(graceMs);
    return (draining ??= (async () => {
      // Without a grace period nobody could act on the mark, so the key is just deleted.
      if (graceMs > 0) {
        logger.info('draining', { key, graceMs });
        state = 'draining';
        // Clients need the whole grace period after they can see the mark; if etcd cannot take the mark within
        // that time, waiting longer helps nobody.
        const marked = await Promise.race([sync(), sleep(graceMs).then(() => false)]);
        if (marked) await keeper.sleep(graceMs);
        else if (!keeper.closed) logger.warn('could not mark the instance draining in time; deleting its key', { key });
      }
      state = 'drained';
      // With etcd gone for good (e.g. a private etcd stopped by the same Ctrl+C) the key goes with its lease, so
      // retrying the delete past the lease's TTL helps nobody and would keep the process from exiting.
      const ttlMs = keeper.ttlSeconds * 1000;
      if (!(await within(sync(), ttlMs)) && !keeper.closed) {
        logger.warn(`gave up deleting ${key} after ${keeper.ttlSeconds} s; it goes with its lease`, { key });
      }
    })());
  };

  const registration: Registration = {
    key,
    service: instance.service,
    address: instance.address,
    get state() {
      return state === 'registering' ? 'registered' : state;
    },
    get value() {
      return written?.value ?? desiredValue();
    },
    drain,
    close(options = {}) {
      checkGrace(options.graceMs ?? DEFAULT_GRACE_MS);
      return (closing ??= (async () => {
        await drain(options);
        state = 'closed';
        forget(entry);
      })());
    },
    [Symbol.asyncDispose]: () => registration.close(),
  };

  const entry: Entry = {
    instance,
    registration,
    get confirmed() {
      return confirmed;
    },
    get wantsKey() {
      return wantsKey();
    },
    async sync(options) {
      const done = await sync(options);
      if (options?.initial && done) {
        if (state === 'closed') throw closedError();
        state = 'registered';
        confirmed = true;
      }
      return done;
    },
    async abandon() {
      state = 'closed';
      forget(entry);
      await sync();
    },
  };
  return entry;
}

/** `p`, or false once `ms` have passed (the timer does not outlive `p`). */
function within(p: Promise<boolean>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}
