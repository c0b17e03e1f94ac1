import type { RoutePolicy } from './route-policy.ts';

/** xDS locality; empty strings when unknown. */
export interface Locality {
  readonly region: string;
  readonly zone: string;
  readonly subZone: string;
}

/** One registered instance of a service, as decoded from one etcd key. */
export interface Instance {
  /** The etcd key that produced it: the instance's identity. */
  readonly key: string;
  readonly service: string;
  /** IPv4 or IPv6 literal, IPv6 without brackets. */
  readonly host: string;
  readonly port: number;
  /** Load-balancing weight, >= 1. */
  readonly weight: number;
  readonly locality: Locality;
  /** Failover priority, 0 = most preferred. */
  readonly priority: number;
  /** Version label (subsets select on it); '' when none. */
  readonly version: string;
  /** String labels (subsets select on them). */
  readonly tags: Readonly<Record<string, string>>;
  /** Being taken out of service: Envoy gets it as DRAINING, gRPC clients stop using it. */
  readonly draining: boolean;
  /** etcd mod_revision of the key. */
  readonly revision: number;
}

export const NO_LOCALITY: Locality = { region: '', zone: '', subZone: '' };
const NO_TAGS: Readonly<Record<string, string>> = Object.freeze({});

/** An instance with every optional field at its default; formats spread their findings over it. */
export function instanceDefaults(key: string, service: string, host: string, port: number, revision: number): Instance {
  return { key, service, host, port, weight: 1, locality: NO_LOCALITY, priority: 0, version: '', tags: NO_TAGS, draining: false, revision };
}

export interface Service {
  readonly name: string;
  /** Sorted by key, so equal registrations give equal services. */
  readonly instances: readonly Instance[];
}

/** A key that could not be decoded, kept so operators can see what and why. */
export interface Rejection {
  readonly key: string;
  readonly reason: string;
  readonly revision: number;
}

/** A service's route policy and the etcd key it came from. */
export interface PolicyEntry {
  readonly key: string;
  readonly policy: RoutePolicy;
}

export interface Catalog {
  readonly services: ReadonlyMap<string, Service>;
  /** Route policies by service; a service without one gets the default route. */
  readonly policies: ReadonlyMap<string, PolicyEntry>;
  readonly rejected: ReadonlyMap<string, Rejection>;
  /** Highest etcd revision applied. */
  readonly revision: number;
}

/** What a registry source says about one key, after decoding. */
export type CatalogEvent =
  | { readonly type: 'upsert'; readonly instance: Instance }
  | { readonly type: 'remove'; readonly key: string; readonly revision: number }
  /** A policy key was written (`policy`) or deleted (`undefined`: back to the default route). */
  | { readonly type: 'policy'; readonly key: string; readonly service: string; readonly policy: RoutePolicy | undefined; readonly revision: number }
  | { readonly type: 'reject'; readonly rejection: Rejection };

export const emptyCatalog: Catalog = { services: new Map(), policies: new Map(), rejected: new Map(), revision: 0 };

/** The etcd key an event is about. */
export const eventKey = (e: CatalogEvent): string =>
  e.type === 'upsert' ? e.instance.key : e.type === 'reject' ? e.rejection.key : e.key;
