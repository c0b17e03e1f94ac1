/**
 * The one lease a registrar puts all its keys under: granted on first use, kept alive by etcd3, replaced when
 * lost. A lease counts as lost when etcd says so (a keepalive answered TTL 0, or a put names an unknown lease) or
 * when no keepalive was acknowledged for longer than the TTL: etcd has expired it by then, unless it restarted
 * meanwhile, since a new leader resets every TTL (etcd-notes §2.7). etcd3 itself gives up only after 2 × TTL.
 * @module
 */
import type { Etcd3, Lease } from 'etcd3';
import { createBackoff } from '../lib/backoff.ts';
import { Code, SwitchyardError, errorMessage } from '../lib/errors.ts';
import type { Logger } from '../lib/logger.ts';
import { classify } from './etcd-errors.ts';

export interface LeaseHandle {
  /** Lease id in decimal, as etcd3 and `etcdctl` print it. */
  readonly id: string;
  readonly lease: Lease;
}

export interface LeaseKeeper {
  readonly ttlSeconds: number;
  /** The live lease, granting one if there is none; retries while etcd is unreachable. */
  acquire(): Promise<LeaseHandle>;
  readonly current: LeaseHandle | undefined;
  readonly closed: boolean;
  /** Revokes the lost leases that nothing uses any more (their keys were put again under the current one). */
  revokeStale(): void;
  /** Sleeps `ms`, or less when the keeper closes. */
  sleep(ms: number): Promise<void>;
  /** Stops granting and revokes the current lease (or lets it expire when etcd cannot be reached). */
  close(): Promise<void>;
}

export interface LeaseKeeperOptions {
  readonly client: Etcd3;
  readonly ttlSeconds: number;
  readonly logger: Logger;
  readonly retry: { readonly initialMs: number; readonly maxMs: number };
  /** A live lease was lost; `current` is undefined until the next `acquire`. */
  readonly onLost: (id: string) => void;
}

export const closedError = () => new SwitchyardError(Code.FailedPrecondition, 'the registrar is closed');

export function createLeaseKeeper({ client, ttlSeconds, logger, retry, onLost }: LeaseKeeperOptions): LeaseKeeper {
  let current: LeaseHandle | undefined;
  let granting: Promise<LeaseHandle> | undefined;
  let closed = false;
  const stale = new Set<Lease>();
  const wakers = new Set<() => void>();
  const backoff = createBackoff(retry);

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (closed) return resolve();
      const wake = () => {
        clearTimeout(timer);
        wakers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      wakers.add(wake);
    });

  function lost(handle: LeaseHandle, reason: string): void {
    if (current !== handle || closed) return;
    current = undefined;
    handle.lease.release();
    stale.add(handle.lease);
    logger.warn('lease lost; granting a new one and registering again', { lease: handle.id, reason });
    onLost(handle.id);
  }

  function watch(handle: LeaseHandle): void {
    let lastAlive = Date.now();
    let failing = false;
    handle.lease.on('lost', (e) => lost(handle, errorMessage(e)));
    handle.lease.on('keepaliveSucceeded', () => {
      lastAlive = Date.now();
      if (!failing) return;
      failing = false;
      logger.info('lease keepalive restored', { lease: handle.id });
    });
    handle.lease.on('keepaliveFailed', (e) => {
      if (current !== handle) return;
      // etcd3 retries every 100 ms: report the first failure, not each retry.
      if (!failing) logger.warn('lease keepalive failed; retrying', { lease: handle.id, error: errorMessage(e) });
      failing = true;
      const silentMs = Date.now() - lastAlive;
      if (silentMs > ttlSeconds * 1000) lost(handle, `no keepalive acknowledged for ${silentMs} ms (TTL ${ttlSeconds} s)`);
    });
  }

  async function grantUntilLive(): Promise<LeaseHandle> {
    for (;;) {
      if (closed) throw closedError();
      const lease = client.lease(ttlSeconds, { autoKeepAlive: true });
      // A failed grant also emits 'lost'; without a listener nothing else happens, but keep it explicit.
      lease.on('lost', () => {});
      try {
        const id = await lease.grant();
        if (closed) {
          await lease.revoke().catch(() => lease.release());
          throw closedError();
        }
        const handle = { id, lease };
        current = handle;
        watch(handle);
        backoff.reset();
        logger.info('lease granted', { lease: id, ttlSeconds });
        return handle;
      } catch (e) {
        lease.release();
        if (e instanceof SwitchyardError && closed) throw e;
        const { retryable, error } = classify(e, 'granting a lease');
        if (!retryable) throw error;
        const delay = backoff.next();
        logger.warn(`could not grant a lease; retrying in ${delay} ms`, { error: errorMessage(e) });
        await sleep(delay);
      }
    }
  }

  return {
    acquire() {
      if (current) return Promise.resolve(current);
      return (granting ??= grantUntilLive().finally(() => (granting = undefined)));
    },
    get current() {
      return current;
    },
    get closed() {
      return closed;
    },
    revokeStale() {
      for (const lease of stale) {
        stale.delete(lease);
        // Usually already gone in etcd (then etcd3 ignores the error); after an etcd restart it may still live.
        lease.revoke().catch((e) => logger.debug('revoking a lost lease failed; it expires by itself', { error: errorMessage(e) }));
      }
    },
    sleep,
    ttlSeconds,
    async close() {
      if (closed) return;
      closed = true;
      for (const wake of [...wakers]) wake();
      await granting?.catch(() => undefined);
      const handle = current;
      current = undefined;
      for (const lease of stale) lease.release();
      stale.clear();
      if (!handle) return;
      try {
        await handle.lease.revoke();
        logger.info('lease revoked', { lease: handle.id });
      } catch (e) {
        handle.lease.release();
        logger.warn(`could not revoke the lease; its keys expire within ${ttlSeconds} s`, { lease: handle.id, error: errorMessage(e) });
      }
    },
  };
}
