/**
 * The etcd side of a Switchyard: one source per watched prefix, over one etcd3 client.
 *
 * A cold start lists every prefix without etcd3 (etcd-first-list.ts) and hands the lists to the sinks
 * at once, so the control plane can serve; etcd3 is then imported and each source watches from the
 * revision after its list. Nothing is lost in between: a watch replays every change after its start
 * revision. When that first list cannot be made (an etcd user is set, or it failed), each source lists
 * through etcd3 as usual, with its retries and error reporting.
 * @module
 */
import type { Etcd3 } from 'etcd3';
import { errorMessage } from '../lib/errors.ts';
import type { Logger } from '../lib/logger.ts';
import { firstList, type FirstList } from './etcd-first-list.ts';
import { etcdHosts, type EtcdClientOptions } from './etcd-options.ts';
import { DEFAULT_PAGING } from './etcd-range-wire.ts';
import type { EtcdSource } from './etcd-source.ts';
import type { RegistrySink, RegistrySource } from './source.ts';

export interface EtcdRegistry {
  /** One per prefix, in the order given. */
  readonly sources: readonly RegistrySource[];
  /** Closes the etcd3 client; stop the sources first. */
  close(): Promise<void>;
}

interface Loaded {
  readonly client: Etcd3;
  readonly createEtcdSource: typeof import('./etcd-source.ts').createEtcdSource;
}

/**
 * `watchAfter`: sources that got the first list start their watches (and load etcd3) once it settles,
 * e.g. when the xDS port is bound, so that work does not delay serving.
 */
export function createEtcdRegistry(
  options: EtcdClientOptions,
  prefixes: readonly string[],
  logger: Logger,
  watchAfter: Promise<unknown> = Promise.resolve(),
): EtcdRegistry {
  etcdHosts(options); // bad options fail here, not later when etcd3 is loaded
  let loading: Promise<Loaded> | undefined;
  let closed = false;
  const load = () =>
    (loading ??= Promise.all([import('./etcd-client.ts'), import('./etcd-source.ts')]).then(([{ createEtcdClient }, { createEtcdSource }]) => ({
      client: createEtcdClient(options),
      createEtcdSource,
    })));

  let first: Promise<FirstList> | undefined;
  const listAll = () => {
    const t0 = performance.now();
    return (first ??= firstList(options, prefixes, DEFAULT_PAGING).then((r) => {
      if (r.ok) logger.debug('first list made without etcd3', { ms: Math.round(performance.now() - t0), keys: [...r.lists.values()].reduce((n, l) => n + l.entries.length, 0) });
      else logger.debug('listing through etcd3', { why: r.why });
      return r;
    }));
  };

  const sources = prefixes.map((prefix): RegistrySource => {
    let source: EtcdSource | undefined;
    /** The source being made and started, once it is. */
    let starting: Promise<void> | undefined;
    let stopped = false;

    async function startWatching(sink: RegistrySink, listedAt: number | undefined): Promise<void> {
      const { client, createEtcdSource } = await load();
      if (stopped || closed) return;
      source = createEtcdSource({ client, prefix, logger, endpoints: options.endpoints, listedAt });
      await source.start(sink);
    }

    return {
      kind: 'etcd',
      prefix,
      description: `etcd ${options.endpoints.join(',')} prefix ${prefix}`,
      async start(sink) {
        const listed = await listAll();
        const mine = listed.ok ? listed.lists.get(prefix) : undefined;
        if (!mine) return await (starting = startWatching(sink, undefined));
        sink.reset(mine.entries, mine.revision);
        void watchAfter
          .catch(() => {})
          .then(() => {
            if (stopped) return;
            starting = startWatching(sink, mine.revision);
            return starting;
          })
          .catch((e: unknown) => logger.error('etcd source did not start after the first list', { prefix, error: errorMessage(e) }));
      },
      async stop() {
        stopped = true;
        await starting?.catch(() => {});
        await source?.stop();
      },
    };
  });

  return {
    sources,
    async close() {
      closed = true;
      const loaded = await loading?.catch(() => undefined);
      loaded?.client.close();
    },
  };
}
