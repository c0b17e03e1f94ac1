import type { Catalog, CatalogEvent, Instance, Rejection, Service } from './model.ts';

export interface CatalogUpdate {
  readonly catalog: Catalog;
  /** Services whose instance list changed (added, removed or different). */
  readonly changed: ReadonlySet<string>;
}

/**
 * Applies decoded events to a catalog and returns a new one; the input is not modified.
 * A rejected key keeps its last valid instance (a bad write loses nothing) and is listed in `rejected`.
 */
export function applyEvents(catalog: Catalog, events: readonly CatalogEvent[]): CatalogUpdate {
  const byService = new Map<string, Map<string, Instance>>();
  const touched = (name: string): Map<string, Instance> => {
    let m = byService.get(name);
    if (!m) {
      m = new Map((catalog.services.get(name)?.instances ?? []).map((i) => [i.key, i]));
      byService.set(name, m);
    }
    return m;
  };
  const owner = keyOwners(catalog);
  const rejected = new Map(catalog.rejected);
  let revision = catalog.revision;

  for (const e of events) {
    switch (e.type) {
      case 'upsert': {
        const { instance } = e;
        const previous = owner.get(instance.key);
        if (previous !== undefined && previous !== instance.service) touched(previous).delete(instance.key);
        touched(instance.service).set(instance.key, instance);
        owner.set(instance.key, instance.service);
        rejected.delete(instance.key);
        revision = Math.max(revision, instance.revision);
        break;
      }
      case 'remove': {
        const previous = owner.get(e.key);
        if (previous !== undefined) touched(previous).delete(e.key);
        owner.delete(e.key);
        rejected.delete(e.key);
        revision = Math.max(revision, e.revision);
        break;
      }
      case 'reject':
        rejected.set(e.rejection.key, e.rejection);
        revision = Math.max(revision, e.rejection.revision);
        break;
    }
  }

  const services = new Map(catalog.services);
  const changed = new Set<string>();
  for (const [name, instances] of byService) {
    const before = catalog.services.get(name);
    const after = instances.size === 0 ? undefined : toService(name, instances);
    if (sameService(before, after)) continue;
    changed.add(name);
    if (after) services.set(name, after);
    else services.delete(name);
  }
  return { catalog: { services, rejected, revision }, changed };
}

/** Replaces the whole catalog with an authoritative listing (after an etcd list), reporting what differs. */
export function replaceAll(previous: Catalog, events: readonly CatalogEvent[], revision: number): CatalogUpdate {
  const fresh = applyEvents({ services: new Map(), rejected: new Map(), revision: 0 }, events).catalog;
  const changed = new Set<string>();
  for (const name of new Set([...previous.services.keys(), ...fresh.services.keys()])) {
    if (!sameService(previous.services.get(name), fresh.services.get(name))) changed.add(name);
  }
  // Rejected keys that still exist keep their previous instance, as in applyEvents.
  const services = new Map(fresh.services);
  for (const key of fresh.rejected.keys()) {
    const old = findInstance(previous, key);
    if (!old) continue;
    const svc = services.get(old.service);
    const instances = new Map((svc?.instances ?? []).map((i) => [i.key, i]));
    instances.set(key, old);
    services.set(old.service, toService(old.service, instances));
    if (sameService(previous.services.get(old.service), services.get(old.service))) changed.delete(old.service);
  }
  return { catalog: { services, rejected: fresh.rejected as Map<string, Rejection>, revision }, changed };
}

function toService(name: string, instances: ReadonlyMap<string, Instance>): Service {
  return { name, instances: [...instances.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)) };
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

function keyOwners(catalog: Catalog): Map<string, string> {
  const owners = new Map<string, string>();
  for (const s of catalog.services.values()) for (const i of s.instances) owners.set(i.key, s.name);
  return owners;
}

function findInstance(catalog: Catalog, key: string): Instance | undefined {
  for (const s of catalog.services.values()) {
    const found = s.instances.find((i) => i.key === key);
    if (found) return found;
  }
  return undefined;
}
