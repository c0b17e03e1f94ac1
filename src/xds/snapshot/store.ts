import type { Catalog, Instance, PolicyEntry } from '../../catalog/model.ts';
import type { RoutePolicy } from '../../catalog/route-policy.ts';
import { PersistentMap } from '../../lib/persistent-map.ts';
import type { Logger } from '../../lib/logger.ts';
import { errorMessage } from '../../lib/errors.ts';
import { PUSH_ORDER, TypeUrl, type AdsTypeUrl } from '../type-urls.ts';
import { buildOutboundListener, buildOutboundRoute, OUTBOUND, type EnvoyListenerOptions } from '../resources/envoy.ts';
import { DeferredResources } from './deferred.ts';
import { encodeResource, type EncodedResource } from './encoded.ts';
import { createServiceEncoder, type ServiceEncoder } from './service.ts';
import { createBuildScheduler } from './schedule.ts';
import { Snapshot } from './snapshot.ts';

/** Names per type whose resource changed or went away in a new snapshot. */
export type ResourceChanges = ReadonlyMap<AdsTypeUrl, ReadonlySet<string>>;

export type SnapshotListener = (snapshot: Snapshot, changes: ResourceChanges) => void;

/** What the xDS server needs from the store (and what tests can fake). */
export interface SnapshotSource {
  current(): Snapshot;
  subscribe(listener: SnapshotListener): () => void;
}

export interface SnapshotStoreOptions {
  logger: Logger;
  /** Quiet period after a catalog change before building, ms; 0 builds on the next tick. */
  debounceMs?: number;
  /** Longest a change may wait while changes keep arriving, ms. */
  maxDelayMs?: number;
  /** Where Envoy sidecars get their outbound listener (default 0.0.0.0:15001). */
  envoyListener?: EnvoyListenerOptions;
  /** Builds and encodes one service; replaceable so tests can feed resources that fail validation. */
  encode?: ServiceEncoder;
  /**
   * A first build of more services than this serves before encoding them: each service is encoded
   * when a client first asks for it, and the rest in the background (see DeferredResources).
   */
  deferAbove?: number;
}

/** Longest the background encoding of a cold start holds the event loop at a time, ms. */
const DRAIN_SLICE_MS = 10;

/**
 * Turns catalog updates into snapshots: coalesces changes, re-encodes only changed services and tells
 * subscribers which resources changed. A service that fails to encode keeps its previous resources.
 */
export function createSnapshotStore({
  logger,
  debounceMs = 5,
  maxDelayMs = 100,
  envoyListener = { address: '0.0.0.0', port: 15001 },
  encode = createServiceEncoder(),
  deferAbove = 1_000,
}: SnapshotStoreOptions) {
  // Per-type persistent maps: a build copies one bucket per changed resource, and snapshots already
  // handed out never change.
  const table = new Map<AdsTypeUrl, PersistentMap<EncodedResource>>(PUSH_ORDER.map((t) => [t, PersistentMap.empty()]));
  for (const r of [encodeResource(buildOutboundListener(envoyListener)), encodeResource(buildOutboundRoute([]))]) {
    table.set(r.typeUrl, table.get(r.typeUrl)!.with(r.name, r));
  }
  let snapshot = new Snapshot(0, new Map(table));
  /** The newest catalog; services not due yet are built from a later one. */
  let latest: Catalog | undefined;
  const scheduler = createBuildScheduler({ debounceMs, maxDelayMs, onDue: (names) => build(names) });
  const listeners = new Set<SnapshotListener>();
  let encodeFailures = 0;

  /** Each service's resources as last published, to know what a rebuild removes. */
  const owned = new Map<string, readonly EncodedResource[]>();
  const publishedPolicies = new Map<string, PolicyEntry>();
  /** Services of a cold start not folded into `table` yet. */
  let deferred = PersistentMap.empty<DeferredResources>();
  let drainTimer: ReturnType<typeof setImmediate> | undefined;
  /** Holds on the background encoding (see `holdBackground`), and whether a drain waits for them to end. */
  let holds = 0;
  let drainWaiting = false;

  function encodeOrReport(name: string, instances: readonly Instance[], policy: RoutePolicy | undefined): readonly EncodedResource[] | undefined {
    try {
      return encode(name, instances, policy);
    } catch (e) {
      encodeFailures++;
      logger.error('service not published, its previous resources stay in force', { service: name, error: errorMessage(e) });
      return undefined;
    }
  }

  function build(names: readonly string[]): void {
    const catalog = latest;
    if (!catalog) return;
    const edits = new Map<AdsTypeUrl, Map<string, EncodedResource | undefined>>();
    const edit = (typeUrl: AdsTypeUrl, name: string, r: EncodedResource | undefined) => {
      let m = edits.get(typeUrl);
      if (!m) edits.set(typeUrl, (m = new Map()));
      m.set(name, r);
    };
    let routesChanged = false;
    const coldStart = owned.size === 0 && deferred.size === 0 && names.length > deferAbove;
    const deferredChanges: [string, DeferredResources | undefined][] = [];
    for (const name of names) {
      const service = catalog.services.get(name);
      const policy = catalog.policies.get(name);
      if (policy !== publishedPolicies.get(name)) routesChanged = true;
      if (policy) publishedPolicies.set(name, policy);
      else publishedPolicies.delete(name);
      if (coldStart) {
        if (!service) continue;
        const { instances } = service;
        deferredChanges.push([name, new DeferredResources(name, () => encodeOrReport(name, instances, policy?.policy) ?? [])]);
        routesChanged = true;
        continue;
      }
      let after: readonly EncodedResource[] = [];
      if (service) {
        const encoded = encodeOrReport(name, service.instances, policy?.policy);
        if (!encoded) continue;
        after = encoded;
      }
      // A deferred service nobody asked for yet was never sent, so it has nothing to diff against.
      const wasDeferred = deferred.get(name);
      if (wasDeferred) deferredChanges.push([name, undefined]);
      const before = owned.get(name) ?? (wasDeferred?.isEncoded ? [...wasDeferred.resources()] : []);
      if ((before.length > 0 || wasDeferred !== undefined) !== (after.length > 0)) routesChanged = true;
      const previous = new Map(before.map((r) => [resourceId(r), r]));
      for (const r of after) {
        const old = previous.get(resourceId(r));
        previous.delete(resourceId(r));
        // Unchanged bytes are not a change: nothing is pushed for them.
        if (old?.version !== r.version) edit(r.typeUrl, r.name, r);
      }
      for (const gone of previous.values()) edit(gone.typeUrl, gone.name, undefined);
      if (after.length > 0) owned.set(name, after);
      else {
        owned.delete(name);
        encode.forget?.(name);
      }
    }
    deferred = deferred.withChanges(deferredChanges);
    if (routesChanged) {
      // The sidecar route lists every published service (one not built yet has no cluster to route to);
      // it changes only when services or their policies come or go.
      const services = [...owned.keys(), ...[...deferred.keys()].filter((k) => k !== OUTBOUND)];
      const policies = new Map(publishedPolicies);
      const encodeRoute = (previous: () => EncodedResource | undefined): EncodedResource | undefined => {
        try {
          return encodeResource(buildOutboundRoute(services, policies));
        } catch (e) {
          encodeFailures++;
          logger.error('sidecar route not published, the previous one stays in force', { route: OUTBOUND, error: errorMessage(e) });
          return previous();
        }
      };
      if (coldStart) {
        // Reported as changed, so a stream that holds the old route asks the deferred one.
        const before = table.get(TypeUrl.RouteConfiguration)!.get(OUTBOUND);
        edit(TypeUrl.RouteConfiguration, OUTBOUND, undefined);
        deferred = deferred.with(OUTBOUND, new DeferredResources(OUTBOUND, () => [encodeRoute(() => before)].filter((r) => r !== undefined)));
      } else {
        const route = encodeRoute(() => snapshot.get(TypeUrl.RouteConfiguration, OUTBOUND));
        if (route) edit(TypeUrl.RouteConfiguration, OUTBOUND, route);
        deferred = deferred.without(OUTBOUND);
      }
    }
    const changes = new Map<AdsTypeUrl, Set<string>>();
    for (const [typeUrl, byName] of edits) {
      table.set(typeUrl, table.get(typeUrl)!.withChanges(byName));
      changes.set(typeUrl, new Set(byName.keys()));
    }
    snapshot = new Snapshot(catalog.revision, new Map(table), deferred);
    if (coldStart) {
      logger.info('serving before encoding: services are encoded when first asked for, the rest in the background', {
        services: deferred.size,
      });
      startDrain();
    }
    if (changes.size === 0) return;
    for (const l of listeners) {
      try {
        l(snapshot, changes);
      } catch (e) {
        logger.error('snapshot listener failed', { error: errorMessage(e) });
      }
    }
  }

  function startDrain(): void {
    drainWaiting = holds > 0;
    if (!drainWaiting) drainTimer = setImmediate(() => drain([...deferred.values()], 0));
  }

  /** Encodes deferred services a slice at a time, then folds them into the table. */
  function drain(queue: readonly DeferredResources[], from: number): void {
    const until = performance.now() + DRAIN_SLICE_MS;
    let i = from;
    while (i < queue.length && performance.now() < until) queue[i++]!.resources();
    if (i < queue.length) {
      drainTimer = setImmediate(() => drain(queue, i));
      return;
    }
    drainTimer = undefined;
    const edits = new Map<AdsTypeUrl, [string, EncodedResource][]>(PUSH_ORDER.map((t) => [t, []]));
    for (const group of deferred.values()) {
      const resources = [...group.resources()];
      if (resources.length > 0 && group.key !== OUTBOUND) owned.set(group.key, resources);
      for (const r of resources) edits.get(r.typeUrl)!.push([r.name, r]);
    }
    for (const [typeUrl, entries] of edits) table.set(typeUrl, table.get(typeUrl)!.withChanges(entries));
    deferred = PersistentMap.empty();
    // Same content as before, only held differently: nothing to push.
    snapshot = new Snapshot(snapshot.revision, new Map(table), deferred);
    logger.info('cold start encoded', { services: owned.size });
  }

  return {
    current: (): Snapshot => snapshot,
    subscribe(listener: SnapshotListener): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    /** Schedules a build for the services that changed in `catalog` (see BuildScheduler). */
    update(catalog: Catalog, changed: Iterable<string>): void {
      latest = catalog;
      scheduler.changed(changed);
    },
    /** Builds now whatever is pending (used on start and in tests). */
    flush(): void {
      build(scheduler.takeAll());
    },
    /**
     * Keeps a cold start's background encoding from starting until the returned release is called, so
     * its slices do not delay what must happen first (binding the port). Serving is unaffected.
     */
    holdBackground(): () => void {
      holds++;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        holds--;
        if (holds === 0 && drainWaiting && deferred.size > 0) startDrain();
      };
    },
    /** `deferred`: groups of a cold start still waiting to be encoded (0 once it is done). */
    stats: () => ({ encodeFailures, revision: snapshot.revision, deferred: deferred.size }),
    stop(): void {
      scheduler.stop();
      if (drainTimer !== undefined) clearImmediate(drainTimer);
      drainTimer = undefined;
      drainWaiting = false;
      listeners.clear();
    },
  };
}

export type SnapshotStore = ReturnType<typeof createSnapshotStore>;


const resourceId = (r: EncodedResource) => `${r.typeUrl} ${r.name}`;
