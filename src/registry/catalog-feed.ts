import { applyEvents, replaceAll, type CatalogUpdate } from '../catalog/apply.ts';
import { emptyCatalog, type Catalog, type CatalogEvent } from '../catalog/model.ts';
import type { Logger } from '../lib/logger.ts';
import type { RegistrationFormat } from './formats/format.ts';
import type { RawChange, RawEntry, RegistrySink, SourceStatus } from './source.ts';

export interface CatalogFeedOptions {
  prefix: string;
  format: RegistrationFormat;
  logger: Logger;
  /** Called after every reset or batch that changed the catalog (also when only rejections changed). */
  onUpdate: (update: CatalogUpdate) => void;
}

export interface FeedStats {
  /** Keys rejected since start, by count of rejection events. */
  rejectedTotal: number;
  status: SourceStatus;
}

/**
 * The sink a registry source writes to: decodes raw keys with the prefix's format into catalog events
 * and keeps the current catalog. Bad keys are logged with their reason and counted; nothing else is
 * affected by them.
 */
export function createCatalogFeed({ prefix, format, logger, onUpdate }: CatalogFeedOptions) {
  let catalog: Catalog = emptyCatalog;
  const stats: FeedStats = { rejectedTotal: 0, status: { state: 'connecting', since: Date.now(), revision: 0 } };

  const decode = (entry: RawEntry): CatalogEvent | undefined => {
    const d = format(prefix, entry);
    switch (d.kind) {
      case 'instance':
        return { type: 'upsert', instance: d.instance };
      case 'ignore':
        return undefined;
      case 'reject':
        stats.rejectedTotal++;
        logger.warn('rejected registration', { key: entry.key, reason: d.reason, revision: entry.modRevision });
        return { type: 'reject', rejection: { key: entry.key, reason: d.reason, revision: entry.modRevision } };
    }
  };

  const publish = (update: CatalogUpdate) => {
    catalog = update.catalog;
    onUpdate(update);
  };

  const sink: RegistrySink = {
    reset(entries, revision) {
      const events = entries.map(decode).filter((e) => e !== undefined);
      publish(replaceAll(catalog, events, revision));
    },
    apply(changes: readonly RawChange[]) {
      const events: CatalogEvent[] = [];
      for (const c of changes) {
        if (c.type === 'delete') events.push({ type: 'remove', key: c.key, revision: c.modRevision });
        else {
          const e = decode(c.entry);
          // A key that turned into a placeholder no longer registers anything.
          events.push(e ?? { type: 'remove', key: c.entry.key, revision: c.entry.modRevision });
        }
      }
      publish(applyEvents(catalog, events));
    },
    status(status) {
      if (status.state !== stats.status.state) {
        const log = status.state === 'stale' ? logger.warn : logger.info;
        log(`registry ${status.state}`, { prefix, reason: status.reason, revision: status.revision });
      }
      stats.status = status;
    },
  };

  return { sink, catalog: () => catalog, stats: (): Readonly<FeedStats> => stats };
}

export type CatalogFeed = ReturnType<typeof createCatalogFeed>;
