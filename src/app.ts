import { hostname } from 'node:os';
import type { Catalog } from './catalog/model.ts';
import { createLogger, type Logger, type LogLevel } from './lib/logger.ts';
import { Code, SwitchyardError } from './lib/errors.ts';
import { createCatalogFeed, createCatalogState, type FeedStats } from './registry/catalog-feed.ts';
import { registrations, type KeyReader, type RegistrationFormat } from './registry/formats/format.ts';
import { DEFAULT_ROUTES_PREFIX, policyReader } from './registry/policy-reader.ts';
import { createEtcdRegistry, type EtcdRegistry } from './registry/etcd-registry.ts';
import { plainFormat } from './registry/formats/plain.ts';
import type { RegistrySource } from './registry/source.ts';
import { createXdsServer, type XdsServer } from './xds/server/ads-server.ts';
import { createServerHooks, type ServerHooks } from './xds/server/hooks.ts';
import { createSnapshotStore, type SnapshotStore } from './xds/snapshot/store.ts';

export interface SwitchyardOptions {
  /** etcd to watch. Ignored when `source` is given. */
  etcd?: { endpoints: readonly string[]; username?: string; password?: string };
  /** Key prefix of registrations (default `/services/`). */
  prefix?: string;
  /** More etcd prefixes to watch, each in its own format, e.g. `{ prefix: '/microservices/', format: FORMATS.kratos }`. */
  sources?: readonly { prefix: string; format: RegistrationFormat }[];
  /** Where route policies live in etcd (default `/switchyard/routes/`). */
  routesPrefix?: string;
  /** A ready registry source instead of etcd (e.g. the memory registry), in Switchyard's format; its prefix is used. */
  source?: RegistrySource;
  /** With `source`: a source of route policies. */
  routesSource?: RegistrySource;
  /** `host:port` for the xDS gRPC server; port 0 picks a free one (default `127.0.0.1:18000`). */
  xdsListen?: string;
  logger?: Logger;
  logLevel?: LogLevel;
  /**
   * Quiet period of a service before its change is pushed, ms (default 5); `pushMaxDelayMs` caps the wait of a
   * service that keeps changing (default 100). Each service has its own clock.
   */
  pushDebounceMs?: number;
  pushMaxDelayMs?: number;
  /** `control_plane.identifier` in responses (default `switchyard@<hostname>/<pid>`). */
  controlPlaneId?: string;
  /** Address and port of the outbound listener Envoy sidecars get over LDS (default 0.0.0.0:15001). */
  envoyListener?: { address: string; port: number };
  /** Largest xDS response sent; bigger ones are split (RDS/EDS/Delta) or refused (SotW LDS/CDS). Default 4 MiB. */
  maxResponseBytes?: number;
}

export interface Switchyard {
  /** Starts the registry source and the xDS server; resolves once the first catalog is built and the port is bound. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Bound `host:port` of the xDS server (after start). */
  readonly xdsAddress: string;
  /** Observe streams, requests, responses, ACKs and NACKs. */
  readonly hooks: ServerHooks;
  /** Current catalog (services, rejected keys). */
  catalog(): Catalog;
  /** Registry health per watched prefix and the total count of rejected registrations. */
  registryStats(): { readonly rejectedTotal: number; readonly sources: readonly Readonly<FeedStats>[] };
  /** The snapshot store (current encoded resources). */
  readonly snapshots: SnapshotStore;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Wires registry → catalog → snapshot → xDS server.
 * @example
 * await using sy = createSwitchyard({ etcd: { endpoints: ['http://127.0.0.1:2379'] }, xdsListen: '127.0.0.1:0' });
 * await sy.start();
 * console.log(`point GRPC_XDS_BOOTSTRAP at ${sy.xdsAddress}`);
 */
export function createSwitchyard(options: SwitchyardOptions): Switchyard {
  const logger = options.logger ?? createLogger({ level: options.logLevel ?? 'info' });
  const hooks = createServerHooks((event, e) => logger.error('hook listener failed', { event, error: String(e) }));
  const snapshots = createSnapshotStore({
    logger: scoped(logger, 'snapshot'),
    debounceMs: options.pushDebounceMs,
    maxDelayMs: options.pushMaxDelayMs,
    envoyListener: options.envoyListener,
  });
  hooks.on('refused', ({ streamId, node, typeUrl, reason }) =>
    logger.error('xDS response refused: it would exceed the client receive limit', { streamId, node: node?.id, typeUrl, reason }),
  );

  let etcd: EtcdRegistry | undefined;
  // Settles once start() has bound the port (or failed): work that can wait until then waits for it.
  let markServing = () => {};
  const serving = new Promise<void>((resolve) => (markServing = resolve));
  const watched: { source: RegistrySource; reader: KeyReader }[] = [];
  if (options.source) {
    watched.push({ source: options.source, reader: registrations(plainFormat) });
    if (options.routesSource) watched.push({ source: options.routesSource, reader: policyReader });
  } else {
    if (!options.etcd || options.etcd.endpoints.length === 0) {
      throw new SwitchyardError(Code.InvalidArgument, 'createSwitchyard: give `etcd.endpoints` or a registry `source`');
    }
    const specs: { prefix: string; reader: KeyReader }[] = [
      { prefix: options.prefix ?? '/services/', reader: registrations(plainFormat) },
      ...(options.sources ?? []).map(({ prefix, format }) => ({ prefix, reader: registrations(format) })),
      { prefix: options.routesPrefix ?? DEFAULT_ROUTES_PREFIX, reader: policyReader },
    ];
    const duplicate = specs.find((spec, i) => specs.findIndex((o) => o.prefix === spec.prefix) !== i);
    if (duplicate) throw new SwitchyardError(Code.InvalidArgument, `createSwitchyard: prefix "${duplicate.prefix}" is watched twice`);
    etcd = createEtcdRegistry(options.etcd, specs.map((spec) => spec.prefix), scoped(logger, 'etcd'), serving);
    etcd.sources.forEach((source, i) => watched.push({ source, reader: specs[i]!.reader }));
  }
  const state = createCatalogState(({ catalog, changed }) => snapshots.update(catalog, changed));
  const allPrefixes = watched.map((w) => w.source.prefix);
  const feeds = watched.map(({ source, reader }) => ({
    source,
    feed: createCatalogFeed({ prefix: source.prefix, reader, logger: scoped(logger, 'registry'), state, allPrefixes }),
  }));

  let server: XdsServer | undefined;
  let address = '';
  const stop = async () => {
    await server?.stop();
    server = undefined;
    await Promise.all(feeds.map(({ source }) => source.stop()));
    snapshots.stop();
    await etcd?.close();
    etcd = undefined;
  };

  return {
    async start() {
      logger.info('starting', { registry: feeds.map(({ source }) => source.description) });
      await Promise.all(feeds.map(({ source, feed }) => source.start(feed.sink)));
      const releaseBackground = snapshots.holdBackground();
      snapshots.flush();
      server = createXdsServer({
        source: snapshots,
        hooks,
        logger: scoped(logger, 'xds'),
        controlPlaneId: options.controlPlaneId ?? `switchyard@${hostname()}/${process.pid}`,
        maxResponseBytes: options.maxResponseBytes,
      });
      try {
        address = await server.listen(options.xdsListen ?? '127.0.0.1:18000');
      } finally {
        releaseBackground();
        markServing();
      }
      logger.info('xDS server listening', { address, services: state.current().services.size });
    },
    stop,
    get xdsAddress() {
      return address;
    },
    hooks,
    catalog: state.current,
    registryStats: () => {
      const sources = feeds.map(({ feed }) => feed.stats());
      return { rejectedTotal: sources.reduce((n, s) => n + s.rejectedTotal, 0), sources };
    },
    snapshots,
    [Symbol.asyncDispose]: stop,
  };
}

function scoped(logger: Logger, scope: string): Logger {
  const withChild = logger as Logger & { child?: (s: string) => Logger };
  return withChild.child ? withChild.child(scope) : logger;
}
