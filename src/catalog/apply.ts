import { PersistentMap } from '../lib/persistent-map.ts';
import { eventKey, type Catalog, type CatalogEvent, type Instance, type Rejection, type Service } from './model.ts';
import { samePolicy } from './route-policy.ts';

export interface CatalogUpdate {
  readonly catalog: Catalog;
  /** Services whose instance list changed (added, removed or different). */
  readonly changed: ReadonlySet<string>;
}

/**
 * Applies decoded events to a catalog and returns a new one; the input is not modified.
 * A rejected key keeps its last valid instance (a bad write loses nothing) and is listed in `rejected`.
 */
export function applyEvents(
  catalog: Catalog,
  events: readonly CatalogEvent[],
  /** Which service a key belongs to in `catalog`; callers that keep an index pass it to avoid a full scan. */
  ownerIn: (key: string) => string | undefined = ownersOf(catalog),
): CatalogUpdate {
  const byService = new Map<string, Map<string, Instance>>();
  const touched = (name: string): Map<string, Instance> => {
    let m = byService.get(name);
    if (!m) {
      m = new Map((catalog.services.get(name)?.instances ?? []).map((i) => [i.key, i]));
      byService.set(name, m);
    }
    return m;
  };
  const moved = new Map<string, string | undefined>();
  const owner = {
    get: (key: string) => (moved.has(key) ? moved.get(key) : ownerIn(key)),
    set: (key: string, service: string) => moved.set(key, service),
    delete: (key: string) => moved.set(key, undefined),
  };
  let rejected = catalog.rejected;
  const editRejected = (): Map<string, Rejection> => {
    if (rejected === catalog.rejected) rejected = new Map(rejected);
    return rejected as Map<string, Rejection>;
  };
  let policies = catalog.policies;
  const changedPolicies = new Set<string>();
  let revision = catalog.revision;

  for (const e of events) {
    switch (e.type) {
      case 'upsert': {
        const { instance } = e;
        const previous = owner.get(instance.key);
        if (previous !== undefined && previous !== instance.service) touched(previous).delete(instance.key);
        touched(instance.service).set(instance.key, instance);
        owner.set(instance.key, instance.service);
        if (rejected.has(instance.key)) editRejected().delete(instance.key);
        revision = Math.max(revision, instance.revision);
        break;
      }
      case 'remove': {
        const previous = owner.get(e.key);
        if (previous !== undefined) touched(previous).delete(e.key);
        owner.delete(e.key);
        if (rejected.has(e.key)) editRejected().delete(e.key);
        revision = Math.max(revision, e.revision);
        break;
      }
      case 'reject':
        editRejected().set(e.rejection.key, e.rejection);
        revision = Math.max(revision, e.rejection.revision);
        break;
      case 'policy': {
        // A rejected policy arrives as 'reject' and leaves the last valid one in force.
        if (rejected.has(e.key)) editRejected().delete(e.key);
        revision = Math.max(revision, e.revision);
        if (samePolicy(policies.get(e.service)?.policy, e.policy)) break;
        const next = new Map(policies);
        if (e.policy) next.set(e.service, { key: e.key, policy: e.policy });
        else next.delete(e.service);
        policies = next;
        changedPolicies.add(e.service);
        break;
      }
    }
  }

  const changed = new Set<string>(changedPolicies);
  const serviceChanges: [string, Service | undefined][] = [];
  for (const [name, instances] of byService) {
    const after = instances.size === 0 ? undefined : toService(name, instances);
    if (sameService(catalog.services.get(name), after)) continue;
    changed.add(name);
    serviceChanges.push([name, after]);
  }
  const services = persistent(catalog.services).withChanges(serviceChanges);
  return { catalog: { services, policies, rejected, revision }, changed };
}

/**
 * Replaces what a catalog holds for the keys in one scope (one watched prefix) with an authoritative
 * listing of that scope, as after an etcd list; keys outside the scope are untouched. Only what differs
 * is reported as changed, and a key that is now rejected keeps its last valid instance.
 * `listedKeys`, when given, is every key the listing holds: `events` may then leave out the keys the
 * catalog already holds at the listed revision, and those are kept as they are. `ownerIn` as for applyEvents.
 */
export function replaceScope(
  previous: Catalog,
  events: readonly CatalogEvent[],
  revision: number,
  inScope: (key: string) => boolean,
  ownerIn?: (key: string) => string | undefined,
  listedKeys?: ReadonlySet<string>,
): CatalogUpdate {
  const removals: CatalogEvent[] = [];
  const unlisted = listedKeys ? (key: string) => inScope(key) && !listedKeys.has(key) : unlistedIn(events, inScope);
  let heldInScope = false;
  const visit = (key: string) => (heldInScope ||= inScope(key)) && unlisted(key);
  for (const s of previous.services.values()) {
    for (const i of s.instances) if (visit(i.key)) removals.push({ type: 'remove', key: i.key, revision });
  }
  for (const key of previous.rejected.keys()) if (visit(key)) removals.push({ type: 'remove', key, revision });
  for (const [service, { key }] of previous.policies) {
    if (visit(key)) removals.push({ type: 'policy', key, service, policy: undefined, revision });
  }
  if (!heldInScope && events.every((e) => e.type === 'upsert' || e.type === 'reject')) return addToScope(previous, events, revision);
  const update = applyEvents(previous, [...removals, ...events], ownerIn);
  return { catalog: { ...update.catalog, revision: Math.max(update.catalog.revision, revision) }, changed: update.changed };
}

/**
 * replaceScope for a scope the catalog holds nothing of (a prefix's first list): every event adds, so the
 * instances are grouped by service directly. Five times faster than applyEvents for 100k keys at start.
 */
function addToScope(previous: Catalog, events: readonly CatalogEvent[], revision: number): CatalogUpdate {
  // Instances are collected in arrays (a list has them in key order); a key given twice keeps its last.
  const added = new Map<string, Instance[]>();
  let rejected = previous.rejected;
  let latest = Math.max(previous.revision, revision);
  for (const e of events) {
    if (e.type === 'upsert') {
      const { instance } = e;
      let instances = added.get(instance.service);
      if (!instances) added.set(instance.service, (instances = []));
      instances.push(instance);
      latest = Math.max(latest, instance.revision);
      if (rejected !== previous.rejected) (rejected as Map<string, Rejection>).delete(instance.key);
    } else if (e.type === 'reject') {
      if (rejected === previous.rejected) rejected = new Map(rejected);
      (rejected as Map<string, Rejection>).set(e.rejection.key, e.rejection);
      latest = Math.max(latest, e.rejection.revision);
    }
  }
  const changes: [string, Service][] = [];
  for (const [name, instances] of added) {
    // The service may hold instances of other prefixes; none of them is in this scope.
    for (const i of previous.services.get(name)?.instances ?? []) instances.push(i);
    changes.push([name, { name, instances: lastOfEachKey(sortedByKey(instances)) }]);
  }
  const services = persistent(previous.services).withChanges(changes);
  return { catalog: { services, policies: previous.policies, rejected, revision: latest }, changed: new Set(added.keys()) };
}

/**
 * Whether a key is in scope but not among `events`. The set of listed keys is built only when a key in
 * scope is asked about, so the first list of a prefix (nothing in scope yet) does not build it.
 */
function unlistedIn(events: readonly CatalogEvent[], inScope: (key: string) => boolean): (key: string) => boolean {
  let listed: Set<string> | undefined;
  return (key) => inScope(key) && !(listed ??= new Set(events.map(eventKey))).has(key);
}

function toService(name: string, instances: ReadonlyMap<string, Instance>): Service {
  return { name, instances: sortedByKey([...instances.values()]) };
}

/** Of each run of equal keys (in event order after a stable sort), the last. */
function lastOfEachKey(sorted: Instance[]): Instance[] {
  let n = 0;
  for (let i = 0; i < sorted.length; i++) {
    if (i + 1 < sorted.length && sorted[i + 1]!.key === sorted[i]!.key) continue;
    sorted[n++] = sorted[i]!;
  }
  sorted.length = n;
  return sorted;
}

/** Sorts in place (stably), skipping the sort when already in order (a list's keys are). */
function sortedByKey(instances: Instance[]): Instance[] {
  for (let i = 1; i < instances.length; i++) {
    if (instances[i - 1]!.key > instances[i]!.key) return instances.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }
  return instances;
}

function sameService(a: Service | undefined, b: Service | undefined): boolean {
  if (a === b) return true;
  if (!a || !b || a.instances.length !== b.instances.length) return false;
  return a.instances.every((x, i) => sameInstance(x, b.instances[i]!));
}

/** Equal in everything that reaches xDS (the revision does not). */
function sameInstance(a: Instance, b: Instance): boolean {
  return (
    a.key === b.key &&
    a.service === b.service &&
    a.host === b.host &&
    a.port === b.port &&
    a.weight === b.weight &&
    a.priority === b.priority &&
    a.version === b.version &&
    a.draining === b.draining &&
    a.locality.region === b.locality.region &&
    a.locality.zone === b.locality.zone &&
    a.locality.subZone === b.locality.subZone &&
    sameTags(a.tags, b.tags)
  );
}

function sameTags(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

function ownersOf(catalog: Catalog): (key: string) => string | undefined {
  let owners: Map<string, string> | undefined;
  return (key) => (owners ??= indexOwners(catalog)).get(key);
}

/** Which service each instance key of `catalog` belongs to. */
function indexOwners(catalog: Catalog): Map<string, string> {
  const owners = new Map<string, string>();
  for (const s of catalog.services.values()) for (const i of s.instances) owners.set(i.key, s.name);
  return owners;
}


/** The catalog's service map as a PersistentMap, so an update copies a bucket, not the whole map. */
function persistent(services: ReadonlyMap<string, Service>): PersistentMap<Service> {
  return services instanceof PersistentMap ? services : PersistentMap.from(services);
}
