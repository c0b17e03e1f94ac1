/**
 * In-process registry with etcd-like semantics, for demos and tests that need no etcd.
 *
 * Shape: `createMemoryStore()` is the KV + leases (one etcd cluster); `store.source(prefix)` is a `RegistrySource`
 * watching one prefix, and a store can feed any number of them. `createMemoryRegistry()` is the common case: a store
 * and one source in one object.
 *
 * etcd semantics kept: a store-wide revision that starts at 1 and grows by one per put, per delete of an existing
 * key, and per lease revoke/expiry that deletes keys (all of a lease's keys go in one revision); a put without a
 * lease detaches the key from its old lease; a put with an unknown lease fails; keys list sorted.
 *
 * Delivery is synchronous: `put`/`delete`/`revoke` return after every started source's sink has seen the change,
 * one `apply` call per revision. A sink that writes to the store from inside `apply` is queued behind the current
 * delivery, so every sink still sees revisions in order. A sink that throws does not fail the writer: the error is
 * rethrown on a microtask (an uncaught error, as a bug should be).
 */
import { Code, SwitchyardError } from '../lib/errors.ts';
import type { RawChange, RawEntry, RegistrySink, RegistrySource } from './source.ts';

export interface MemoryStore {
  /** Current store revision (etcd header revision). */
  readonly revision: number;
  /** Create or replace a key; returns the new revision. */
  put(key: string, value: string, opts?: { lease?: string }): number;
  /** Returns false (and leaves the revision alone) when the key did not exist. */
  delete(key: string): boolean;
  get(key: string): RawEntry | undefined;
  /** Entries whose key starts with `prefix`, sorted by key. */
  list(prefix?: string): RawEntry[];
  /** Fractional seconds are allowed (tests use short TTLs). Returns the lease id in decimal. */
  grantLease(ttlSeconds: number): string;
  /** Restart the lease's TTL. Throws `NOT_FOUND` when the lease expired or was revoked. */
  keepAlive(leaseId: string): void;
  /** Delete the lease and its keys (in one revision). Throws `NOT_FOUND` for an unknown lease. */
  revoke(leaseId: string): void;
  /** A new source watching `prefix`. */
  source(prefix: string): RegistrySource;
  /** Cancel lease timers and detach all sources. The data stays readable. */
  close(): void;
}

export interface MemoryRegistry extends MemoryStore, RegistrySource {
  readonly kind: 'memory';
  readonly store: MemoryStore;
}

interface Lease {
  readonly ttlMs: number;
  readonly keys: Set<string>;
  timer: ReturnType<typeof setTimeout>;
}

interface Watcher {
  readonly prefix: string;
  readonly sink: RegistrySink;
  /** Changes at or below this revision were already in the watcher's reset. */
  readonly fromRevision: number;
}

const keyOf = (c: RawChange) => (c.type === 'put' ? c.entry.key : c.key);
const revisionOf = (c: RawChange) => (c.type === 'put' ? c.entry.modRevision : c.modRevision);

const notFound = (leaseId: string) =>
  new SwitchyardError(Code.NotFound, `lease ${leaseId} not found (expired, revoked or never granted)`);

export function createMemoryStore(): MemoryStore {
  const kv = new Map<string, RawEntry>();
  const leases = new Map<string, Lease>();
  const watchers = new Set<Watcher>();
  let revision = 1;
  let leaseSeq = 1000;

  const queue: RawChange[][] = [];
  let delivering = false;
  const deliver = (changes: RawChange[]) => {
    queue.push(changes);
    if (delivering) return;
    delivering = true;
    try {
      for (let batch = queue.shift(); batch; batch = queue.shift()) {
        for (const w of [...watchers]) {
          if (!watchers.has(w)) continue;
          const mine = batch.filter((c) => keyOf(c).startsWith(w.prefix) && revisionOf(c) > w.fromRevision);
          if (mine.length === 0) continue;
          try {
            w.sink.apply(mine);
          } catch (e) {
            queueMicrotask(() => {
              throw e;
            });
          }
        }
      }
    } finally {
      delivering = false;
    }
  };

  /** Delete keys in one revision and deliver them as one batch. */
  const deleteKeys = (keys: Iterable<string>) => {
    const present = [...keys].filter((k) => kv.has(k));
    if (present.length === 0) return;
    revision++;
    const changes: RawChange[] = [];
    for (const key of present) {
      const old = kv.get(key);
      if (old && old.lease !== '0') leases.get(old.lease)?.keys.delete(key);
      kv.delete(key);
      changes.push({ type: 'delete', key, modRevision: revision });
    }
    deliver(changes);
  };

  const dropLease = (leaseId: string) => {
    const lease = leases.get(leaseId);
    if (!lease) throw notFound(leaseId);
    clearTimeout(lease.timer);
    leases.delete(leaseId);
    deleteKeys(lease.keys);
  };

  const armTimer = (leaseId: string, ttlMs: number) => {
    const timer = setTimeout(() => {
      if (leases.get(leaseId)?.timer === timer) dropLease(leaseId);
    }, ttlMs);
    timer.unref();
    return timer;
  };

  const store: MemoryStore = {
    get revision() {
      return revision;
    },

    put(key, value, { lease = '0' } = {}) {
      if (key === '') throw new SwitchyardError(Code.InvalidArgument, 'key must not be empty');
      const target = lease === '0' ? undefined : leases.get(lease);
      if (lease !== '0' && !target) throw notFound(lease);
      const old = kv.get(key);
      if (old && old.lease !== '0' && old.lease !== lease) leases.get(old.lease)?.keys.delete(key);
      revision++;
      const entry: RawEntry = Object.freeze({ key, value, modRevision: revision, lease });
      kv.set(key, entry);
      target?.keys.add(key);
      deliver([{ type: 'put', entry }]);
      return revision;
    },

    delete(key) {
      if (!kv.has(key)) return false;
      deleteKeys([key]);
      return true;
    },

    get: (key) => kv.get(key),

    list: (prefix = '') =>
      [...kv.values()].filter((e) => e.key.startsWith(prefix)).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)),

    grantLease(ttlSeconds) {
      if (!(ttlSeconds > 0) || !Number.isFinite(ttlSeconds)) {
        throw new SwitchyardError(Code.InvalidArgument, `lease TTL must be a positive number of seconds, got ${ttlSeconds}`);
      }
      const id = String(++leaseSeq);
      const ttlMs = ttlSeconds * 1000;
      leases.set(id, { ttlMs, keys: new Set(), timer: armTimer(id, ttlMs) });
      return id;
    },

    keepAlive(leaseId) {
      const lease = leases.get(leaseId);
      if (!lease) throw notFound(leaseId);
      clearTimeout(lease.timer);
      lease.timer = armTimer(leaseId, lease.ttlMs);
    },

    revoke: dropLease,

    source(prefix) {
      let watcher: Watcher | undefined;
      return {
        kind: 'memory',
        prefix,
        description: `memory prefix ${prefix}`,
        async start(sink) {
          if (watcher) throw new SwitchyardError(Code.FailedPrecondition, `memory source ${prefix} already started`);
          watcher = { prefix, sink, fromRevision: revision };
          sink.reset(store.list(prefix), revision);
          sink.status({ state: 'synced', since: Date.now(), revision });
          watchers.add(watcher);
        },
        async stop() {
          if (watcher) watchers.delete(watcher);
          watcher = undefined;
        },
      };
    },

    close() {
      for (const lease of leases.values()) clearTimeout(lease.timer);
      watchers.clear();
    },
  };
  return store;
}

/** A store plus one source over `prefix`. Pass `store` to share one store between registries. */
export function createMemoryRegistry({
  prefix = '/services/',
  store = createMemoryStore(),
}: { prefix?: string; store?: MemoryStore } = {}): MemoryRegistry {
  const source = store.source(prefix);
  return {
    kind: 'memory',
    prefix,
    description: source.description,
    start: source.start,
    stop: source.stop,
    store,
    get revision() {
      return store.revision;
    },
    put: store.put,
    delete: store.delete,
    get: store.get,
    list: store.list,
    grantLease: store.grantLease,
    keepAlive: store.keepAlive,
    revoke: store.revoke,
    source: store.source,
    close: store.close,
  };
}
