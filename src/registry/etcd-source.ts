import type { Etcd3, IWatchResponse, Watcher } from 'etcd3';
import { createBackoff } from '../lib/backoff.ts';
import { Code, SwitchyardError, errorMessage } from '../lib/errors.ts';
import { silentLogger, type Logger } from '../lib/logger.ts';
import { isCompactionError, toSwitchyardError } from './etcd-client.ts';
import { rangeReader, toEntry, type RangeReader } from './etcd-range.ts';
import { DEFAULT_PAGING, listPrefix, type RangeRequest } from './etcd-range-wire.ts';
import type { RawChange, RawEntry, RegistrySink, RegistrySource, SourceState, SourceStatus } from './source.ts';

/** Timer functions, injectable so tests can prove `stop()` leaves none behind. */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface EtcdSourceOptions {
  /** Owned by the caller: the source never closes it. Build it with `createEtcdClient`. */
  client: Etcd3;
  prefix: string;
  logger?: Logger;
  /**
   * Keys in the first list page. Later pages are sized from the bytes per key seen so far to about
   * `pageBytes`, at most `maxPageSize` keys: etcd counts the whole remaining range for every page, so
   * 100k keys in pages of 1,000 take ~1.3 s where three pages take ~0.3 s.
   */
  pageSize?: number;
  pageBytes?: number;
  maxPageSize?: number;
  /** Full re-list every this many ms as a safety net (etcd-notes §2.2 step 6); 0 disables. */
  resyncIntervalMs?: number;
  /**
   * That re-list, on a healthy watch, reads pages of this many keys with this pause between them: at
   * 100k keys it then takes a few seconds of a little of etcd's and the control plane's time instead of
   * a second of all of it, while watch events go on being applied.
   */
  resyncPaging?: { readonly pageSize: number; readonly pauseMs: number };
  /**
   * How long a new watcher may take to connect before it is dropped and the cycle retried. Generous,
   * because a retry re-lists the whole prefix: under load (S4 churn bench) 5 s timed out and the re-lists
   * it caused put the control plane seconds behind.
   */
  watchConnectTimeoutMs?: number;
  retryInitialMs?: number;
  retryMaxMs?: number;
  /** Only for `description`. */
  endpoints?: readonly string[];
  timers?: Timers;
  /** How list pages are read; injectable so tests can watch the page sizes. */
  readRange?: RangeReader;
  /**
   * The sink already holds the prefix as it was at this revision (listed elsewhere: the first list of a
   * cold start), so the source starts by watching from the next revision instead of listing.
   */
  listedAt?: number;
}

export interface EtcdSourceStats {
  /** Watch streams that came back after a disconnect. */
  readonly reconnects: number;
  /** Successful lists after the first one (reconnects, errors, periodic resyncs). */
  readonly relists: number;
  readonly compactionsRecovered: number;
  /** Highest revision known to be reflected in what the sink received. */
  readonly lastSyncRevision: number;
}

export interface EtcdSource extends RegistrySource {
  readonly kind: 'etcd';
  readonly stats: EtcdSourceStats;
}

type Trouble =
  | { readonly kind: 'stopped' }
  | { readonly kind: 'error'; readonly error: unknown }
  | { readonly kind: 'reconnected' }
  | { readonly kind: 'resync' };

const troubleRank: Record<Trouble['kind'], number> = { resync: 0, reconnected: 1, error: 2, stopped: 3 };

class StoppedError extends Error {}

const defaultTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/**
 * Mirrors an etcd prefix into a RegistrySink with the list → watch → re-list recipe of etcd-notes §2.2.
 * Ownership: the caller owns `client` (close it after `stop()`); the source owns its watcher and timers.
 */
export function createEtcdSource({
  client,
  prefix,
  logger = silentLogger,
  pageSize = DEFAULT_PAGING.pageSize,
  pageBytes = DEFAULT_PAGING.pageBytes,
  maxPageSize = DEFAULT_PAGING.maxPageSize,
  resyncIntervalMs = 5 * 60_000,
  resyncPaging = { pageSize: 2_000, pauseMs: 10 },
  watchConnectTimeoutMs = 15_000,
  retryInitialMs = 100,
  retryMaxMs = 2_000,
  endpoints,
  timers = defaultTimers,
  readRange = rangeReader(client),
  listedAt,
}: EtcdSourceOptions): EtcdSource {
  const stats = { reconnects: 0, relists: 0, compactionsRecovered: 0, lastSyncRevision: 0 };
  const backoff = createBackoff({ initialMs: retryInitialMs, maxMs: retryMaxMs });
  const liveTimers = new Set<() => void>();

  let sink: RegistrySink | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;
  /** Rejecters of the calls the loop is awaiting; stop() fires them so the loop ends at once. */
  const abortOnStop = new Set<(e: Error) => void>();

  let watcher: Watcher | undefined;
  let watcherErrored = false;
  let disconnected = false;
  /** Revision of the last list: watch events at or below it are already in the sink (etcd-notes §2.2 step 3). */
  let listRevision = 0;
  /**
   * Set from a reconnect until the re-list that follows it is out: events wait here for the reset, since
   * etcd3's resume can leave a gap before them.
   */
  let buffer: RawChange[][] | undefined;
  /**
   * Set while a re-list runs on a healthy watch (the periodic safety net): events are applied as they
   * come, so the list delays none of them, and kept here so that its reset leaves the keys they changed
   * after its revision as they are.
   */
  let appliedDuringList: RawChange[][] | undefined;
  let everReset = false;
  let status: SourceStatus = { state: 'connecting', since: Date.now(), revision: 0 };
  let lastError: unknown;

  let pending: Trouble | undefined;
  let wake: (() => void) | undefined;

  const later = (ms: number, fn: () => void): (() => void) => {
    const cancel = () => {
      timers.clearTimeout(handle);
      liveTimers.delete(cancel);
    };
    const handle = timers.setTimeout(() => {
      liveTimers.delete(cancel);
      fn();
    }, ms);
    liveTimers.add(cancel);
    return cancel;
  };

  const pause = (ms: number) =>
    untilStopped(new Promise<void>((resolve) => later(ms, resolve)));

  /** Lets the loop give up on a pending call at stop(); its late result is ignored. */
  function untilStopped<T>(p: Promise<T>): Promise<T> {
    p.catch(() => {});
    if (stopped) return Promise.reject(new StoppedError());
    return new Promise<T>((resolve, reject) => {
      abortOnStop.add(reject);
      p.then(resolve, reject).finally(() => abortOnStop.delete(reject));
    });
  }

  function signal(t: Trouble): void {
    if (!pending || troubleRank[t.kind] > troubleRank[pending.kind]) pending = t;
    wake?.();
  }

  async function nextTrouble(): Promise<Trouble> {
    while (!pending) await new Promise<void>((r) => (wake = r));
    wake = undefined;
    const t = pending;
    pending = undefined;
    return t;
  }

  /** Reports state changes, and a changed reason while not synced (the first failure has nothing to compare to). */
  function setStatus(state: SourceState, reason?: string): void {
    if (stopped || !sink || (status.state === state && status.reason === reason)) return;
    const since = status.state === state ? status.since : Date.now();
    status = { state, since, revision: stats.lastSyncRevision, ...(reason ? { reason } : {}) };
    sink.status(status);
  }

  function markTrouble(e: unknown, doing: string): void {
    lastError = e;
    const reason = toSwitchyardError(e, doing).message;
    const first = status.state === 'synced';
    if (first) logger.warn('etcd source lost sync, serving last known state', { prefix, reason });
    else logger.debug('etcd source still not synced', { prefix, reason });
    setStatus(everReset ? 'stale' : 'connecting', reason);
  }

  const read = (request: RangeRequest) => untilStopped(readRange(request));
  /** `gentle`: in small pages with pauses between them (see `resyncPaging`). */
  const list = (gentle = false) =>
    gentle
      ? listPrefix(read, prefix, { pageSize: resyncPaging.pageSize, pageBytes: 0, maxPageSize: resyncPaging.pageSize }, () => pause(resyncPaging.pauseMs))
      : listPrefix(read, prefix, { pageSize, pageBytes, maxPageSize });

  function deliverReset(entries: readonly RawEntry[], revision: number, since?: ReadonlySet<string>): void {
    if (stopped || !sink) return;
    if (everReset) stats.relists++;
    adoptList(revision);
    callSink(() => sink!.reset(entries, revision, since));
  }

  /** The sink holds the prefix as of `revision`. */
  function adoptList(revision: number): void {
    listRevision = revision;
    stats.lastSyncRevision = Math.max(stats.lastSyncRevision, revision);
    everReset = true;
  }

  function deliverBatch(changes: readonly RawChange[]): void {
    if (stopped || !sink) return;
    const fresh = changes.filter((c) => revisionOf(c) > listRevision);
    if (fresh.length === 0) return;
    stats.lastSyncRevision = Math.max(stats.lastSyncRevision, revisionOf(fresh.at(-1)!));
    callSink(() => sink!.apply(fresh));
  }

  function callSink(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      // A throwing sink is a bug elsewhere; resync so the sink gets a clean reset instead of a gap.
      logger.error('registry sink threw, scheduling a full resync', { prefix, error: errorMessage(e) });
      signal({ kind: 'resync' });
    }
  }

  function onData(w: Watcher, res: IWatchResponse): void {
    if (w !== watcher) return;
    if (res.events.length === 0) {
      // progress notification: only sent to synced watchers, so the header revision is safe (etcd-notes §2.4)
      if (!buffer && !disconnected) stats.lastSyncRevision = Math.max(stats.lastSyncRevision, toRevision(res.header.revision));
      return;
    }
    const changes: RawChange[] = res.events.map((ev) =>
      ev.type === 'Put'
        ? { type: 'put', entry: toEntry(ev.kv) }
        : { type: 'delete', key: ev.kv.key.toString('utf8'), modRevision: toRevision(ev.kv.mod_revision) },
    );
    if (buffer) buffer.push(changes);
    else {
      deliverBatch(changes);
      appliedDuringList?.push(changes);
    }
  }

  function openWatcher(fromRevision: number): Promise<void> {
    throwIfStopped();
    const w = client.watch().prefix(prefix).startRevision(String(fromRevision)).watcher();
    watcher = w;
    watcherErrored = false;
    disconnected = false;
    w.on('data', (res: IWatchResponse) => onData(w, res));
    w.on('disconnected', (e: unknown) => {
      if (w !== watcher) return;
      disconnected = true;
      markTrouble(e, `watching ${prefix}`);
    });
    w.on('connected', () => {
      if (w !== watcher || !disconnected) return;
      // etcd3's own resume can skip events (etcd-notes §2.2): buffer from now on and re-list
      disconnected = false;
      stats.reconnects++;
      buffer ??= [];
      signal({ kind: 'reconnected' });
    });
    // Without an 'error' listener a canceled watcher (compaction, auth) dies silently (etcd-notes §2.3).
    w.on('error', (e: unknown) => {
      if (w !== watcher) return;
      watcherErrored = true;
      signal({ kind: 'error', error: e });
    });

    // create() can wait forever while etcd is down (etcd-notes §2.1), so bound the wait for 'connected'.
    return untilStopped(
      new Promise<void>((resolve, reject) => {
        const cancelTimer = later(watchConnectTimeoutMs, () =>
          reject(new SwitchyardError(Code.Unavailable, `etcd watch on ${prefix} did not connect within ${watchConnectTimeoutMs} ms`)),
        );
        const settle = () => {
          cancelTimer();
          w.off('connected', onConnected);
          w.off('error', onError);
        };
        const onConnected = () => (settle(), resolve());
        const onError = (e: unknown) => (settle(), reject(e));
        w.once('connected', onConnected);
        w.once('error', onError);
      }),
    );
  }

  /** Forgets the current watcher; `wait` (used by stop) waits up to 2 s for etcd to confirm the cancel. */
  async function dropWatcher({ wait = false } = {}): Promise<void> {
    const w = watcher;
    watcher = undefined;
    buffer = undefined;
    appliedDuringList = undefined;
    disconnected = false;
    if (pending && pending.kind !== 'stopped') pending = undefined;
    // A watcher canceled by etcd is already gone; cancel() on it would wait for an 'end' that never comes.
    if (!w || watcherErrored) return;
    const canceled = w.cancel().catch((e: unknown) => logger.debug('watch cancel failed', { prefix, error: errorMessage(e) }));
    if (!wait) return;
    let cancelTimer = () => {};
    await Promise.race([canceled, new Promise<void>((r) => (cancelTimer = later(2_000, r)))]);
    cancelTimer();
  }

  async function relist(): Promise<void> {
    const healthy = !buffer;
    if (healthy) appliedDuringList = [];
    const { entries, revision } = await list(healthy);
    throwIfStopped();
    const since = new Set<string>();
    for (const batch of appliedDuringList ?? []) for (const c of batch) if (revisionOf(c) > revision) since.add(c.type === 'put' ? c.entry.key : c.key);
    // a reconnect during the list starts a buffer, whose events wait for the reset
    const held = buffer ?? [];
    buffer = undefined;
    appliedDuringList = undefined;
    deliverReset(entries, revision, since.size > 0 ? since : undefined);
    for (const batch of held) deliverBatch(batch);
  }

  function throwIfStopped(): void {
    // a race already settled by the call can resume after stop(); nothing may start then
    if (stopped) throw new StoppedError();
  }

  /** Used once: after a failure the source lists like any other. */
  let listed = listedAt;

  async function run(firstReset: () => void): Promise<void> {
    let cancelResync = () => {};
    let recoveringCompaction = false;
    while (!stopped) {
      try {
        if (!watcher) {
          let revision: number;
          if (listed !== undefined) {
            revision = listed;
            listed = undefined;
            adoptList(revision);
          } else {
            const page = await list();
            throwIfStopped();
            revision = page.revision;
            deliverReset(page.entries, revision);
          }
          firstReset();
          await openWatcher(revision + 1);
        } else if (!disconnected) {
          await relist();
        }
        // while the watch stream is down etcd3 keeps reconnecting; its next 'connected' triggers the re-list
        if (!disconnected) {
          if (recoveringCompaction) stats.compactionsRecovered++;
          recoveringCompaction = false;
          backoff.reset();
          lastError = undefined;
          if (status.state !== 'synced') logger.info('etcd source synced', { prefix, revision: listRevision });
          setStatus('synced');
          cancelResync();
          if (resyncIntervalMs > 0) cancelResync = later(resyncIntervalMs, () => signal({ kind: 'resync' }));
        }

        const t = await nextTrouble();
        if (t.kind === 'stopped') return;
        if (t.kind === 'error') {
          recoveringCompaction = isCompactionError(t.error);
          logger.warn(recoveringCompaction ? 'etcd watch revision compacted, re-listing' : 'etcd watch canceled, re-listing', {
            prefix,
            error: errorMessage(t.error),
          });
          markTrouble(t.error, `watching ${prefix}`);
          void dropWatcher();
          await pause(backoff.next());
        }
      } catch (e) {
        if (stopped || e instanceof StoppedError) return;
        if (isCompactionError(e)) recoveringCompaction = true;
        markTrouble(e, `syncing ${prefix}`);
        void dropWatcher();
        try {
          await pause(backoff.next());
        } catch {
          return;
        }
      }
    }
  }

  return {
    kind: 'etcd',
    prefix,
    description: `etcd ${endpoints?.join(',') ?? '(client)'} prefix ${prefix}`,
    stats,
    async start(s) {
      if (running || stopped) throw new SwitchyardError(Code.FailedPrecondition, `etcd source for ${prefix} can only be started once`);
      sink = s;
      sink.status(status);
      let resolveFirst = () => {};
      const first = new Promise<void>((r) => (resolveFirst = r));
      running = run(resolveFirst).catch((e: unknown) => {
        logger.error('etcd source loop failed', { prefix, error: errorMessage(e) });
      });
      const endedFirst = running.then(() => {
        const why = lastError ? `: ${toSwitchyardError(lastError, `listing ${prefix}`).message}` : '';
        throw new SwitchyardError(Code.Unavailable, `etcd source for ${prefix} stopped before the first list completed${why}`, {
          cause: lastError,
        });
      });
      endedFirst.catch(() => {});
      await Promise.race([first, endedFirst]);
    },
    async stop() {
      if (stopped) return void (await running);
      stopped = true;
      for (const abort of [...abortOnStop]) abort(new StoppedError());
      abortOnStop.clear();
      signal({ kind: 'stopped' });
      for (const cancel of [...liveTimers]) cancel();
      await dropWatcher({ wait: true });
      await running;
      for (const cancel of [...liveTimers]) cancel();
    },
  };
}


// int64 revisions arrive as strings; a store would need 2^53 writes before Number loses precision.
const toRevision = (r: string | undefined): number => Number(r ?? 0);

const revisionOf = (c: RawChange): number => (c.type === 'put' ? c.entry.modRevision : c.modRevision);
