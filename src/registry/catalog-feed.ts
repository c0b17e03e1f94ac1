import { applyEvents, replaceScope, type CatalogUpdate } from '../catalog/apply.ts';
import { emptyCatalog, type Catalog, type CatalogEvent, type Instance } from '../catalog/model.ts';
import type { Logger } from '../lib/logger.ts';
import type { KeyReader } from './formats/format.ts';
import { isServiceSegment, serviceSegment } from './formats/instance-key.ts';
import type { RawChange, RawEntry, RegistrySink, SourceStatus } from './source.ts';

/**
 * The one current catalog that every feed writes to. Each feed says which service a key of its prefix
 * belongs to (`ownerOf`, from the key itself), so applying a watch event costs what the event touches.
 */
export function createCatalogState(onUpdate: (update: CatalogUpdate) => void) {
  let catalog: Catalog = emptyCatalog;
  return {
    current: (): Catalog => catalog,
    /** True when the catalog holds what `key` said at `modRevision`: its instance, or its rejection. */
    holds(key: string, modRevision: number, ownerOf: OwnerOf): boolean {
      if (catalog.rejected.get(key)?.revision === modRevision) return true;
      const service = ownerOf(key);
      const instances = service === undefined ? undefined : catalog.services.get(service)?.instances;
      return instances !== undefined && instanceWithKey(instances, key)?.revision === modRevision;
    },
    apply(events: readonly CatalogEvent[], ownerOf: OwnerOf): void {
      const update = applyEvents(catalog, events, ownerOf);
      catalog = update.catalog;
      onUpdate(update);
    },
    replaceScope(events: readonly CatalogEvent[], revision: number, inScope: (key: string) => boolean, ownerOf: OwnerOf, listedKeys?: ReadonlySet<string>): void {
      const update = replaceScope(catalog, events, revision, inScope, ownerOf, listedKeys);
      catalog = update.catalog;
      onUpdate(update);
    },
  };
}

/** Which service a key's instance belongs to. */
type OwnerOf = (key: string) => string | undefined;

/** The instance with `key` in a service's instances, which are sorted by key. */
function instanceWithKey(instances: readonly Instance[], key: string): Instance | undefined {
  let lo = 0;
  let hi = instances.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const k = instances[mid]!.key;
    if (k === key) return instances[mid];
    if (k < key) lo = mid + 1;
    else hi = mid - 1;
  }
  return undefined;
}

export type CatalogState = ReturnType<typeof createCatalogState>;

export interface CatalogFeedOptions {
  prefix: string;
  reader: KeyReader;
  logger: Logger;
  state: CatalogState;
  /** Every prefix watched: a key belongs to the longest prefix it starts with, so nested prefixes can coexist. */
  allPrefixes?: readonly string[];
}

export interface FeedStats {
  readonly prefix: string;
  /** Rejection events since start. */
  rejectedTotal: number;
  status: SourceStatus;
}

/**
 * The sink one registry source (one prefix) writes to: decodes raw keys with the prefix's format into
 * catalog events. A list replaces only this prefix's keys. Bad keys are logged with their reason and
 * counted; nothing else is affected by them.
 */
export function createCatalogFeed({ prefix, reader, logger, state, allPrefixes = [prefix] }: CatalogFeedOptions) {
  const stats: FeedStats = { prefix, rejectedTotal: 0, status: { state: 'connecting', since: Date.now(), revision: 0 } };
  const longer = allPrefixes.filter((p) => p.length > prefix.length && p.startsWith(prefix));
  const inScope = longer.length === 0 ? (key: string) => key.startsWith(prefix) : (key: string) => key.startsWith(prefix) && !longer.some((p) => key.startsWith(p));

  const ownerOf = (key: string) => serviceSegment(prefix, key);

  const decode = (entry: RawEntry): CatalogEvent | undefined => {
    if (!inScope(entry.key)) return undefined;
    const d = reader.read(prefix, entry);
    switch (d.kind) {
      case 'instance': {
        if (!isServiceSegment(prefix, entry.key, d.instance.service)) {
          const segment = ownerOf(entry.key) ?? '';
          return rejected(entry, `the service of a registration is the key's segment after ${prefix} ("${segment}"); the format decoded "${d.instance.service}"`);
        }
        return { type: 'upsert', instance: withHeldName(d.instance) };
      }
      case 'policy':
        return { type: 'policy', key: entry.key, service: d.service, policy: d.policy, revision: entry.modRevision };
      case 'ignore':
        return undefined;
      case 'reject':
        return rejected(entry, d.reason);
    }
  };

  const rejected = (entry: RawEntry, reason: string): CatalogEvent => {
    stats.rejectedTotal++;
    logger.warn(`rejected ${reader.noun}`, { key: entry.key, reason, revision: entry.modRevision });
    return { type: 'reject', rejection: { key: entry.key, reason, revision: entry.modRevision } };
  };

  /**
   * The instance with the very name string the catalog holds for its service: each watch event decodes
   * a fresh copy of the name, and under churn every instance would come to keep one of its own.
   */
  const withHeldName = (i: Instance): Instance => {
    const { services } = state.current();
    const held = services.size === 0 ? undefined : services.get(i.service)?.name;
    return held === undefined ? i : { ...i, service: held };
  };

  const sink: RegistrySink = {
    reset(entries, revision, since) {
      // A re-list (after a reconnect, or the periodic resync) finds nearly every key as it was: only
      // the keys whose revision the catalog does not hold are decoded and applied. Keys in `since`
      // already hold what they became after the list; they stay as they are.
      const mine = entries.filter((e) => inScope(e.key) && !since?.has(e.key));
      const catalog = state.current();
      // a first list (a cold start) finds nothing held
      const holdsNothing = catalog.services.size === 0 && catalog.rejected.size === 0;
      const changed = holdsNothing ? mine : mine.filter((e) => !state.holds(e.key, e.modRevision, ownerOf));
      const events = changed.map(decode).filter((e) => e !== undefined);
      let listedKeys: Set<string> | undefined;
      if (changed.length < mine.length || since) {
        listedKeys = new Set(mine.map((e) => e.key));
        for (const key of since ?? []) listedKeys.add(key);
      }
      state.replaceScope(events, revision, inScope, ownerOf, listedKeys);
    },
    apply(changes: readonly RawChange[]) {
      const events = changes
        .filter((c) => inScope(c.type === 'delete' ? c.key : c.entry.key))
        .map((c): CatalogEvent => {
          if (c.type === 'delete') return reader.deleted(prefix, c.key, c.modRevision);
          // A key that turned into a placeholder no longer means anything.
          return decode(c.entry) ?? reader.deleted(prefix, c.entry.key, c.entry.modRevision);
        });
      if (events.length === 0) return;
      state.apply(events, ownerOf);
    },
    status(status) {
      if (status.state !== stats.status.state) {
        const log = status.state === 'stale' ? logger.warn : logger.info;
        log(`registry ${status.state}`, { prefix, reason: status.reason, revision: status.revision });
      }
      stats.status = status;
    },
  };

  return { sink, stats: (): Readonly<FeedStats> => stats };
}

export type CatalogFeed = ReturnType<typeof createCatalogFeed>;
