import type { Instance } from '../../catalog/model.ts';
import type { RoutePolicy } from '../../catalog/route-policy.ts';
import { buildServiceAssignments, buildServiceChain } from '../resources/service.ts';
import { TypeUrl } from '../type-urls.ts';
import { encodeResource, type EncodedResource } from './encoded.ts';

export type ServiceEncoder = ((name: string, instances: readonly Instance[], policy?: RoutePolicy) => EncodedResource[]) & {
  /** Drops what is kept for a service that went away. */
  forget?(name: string): void;
};

/** The instance-independent part of a service, encoded. */
export function encodeServiceChain(name: string, policy?: RoutePolicy): EncodedResource[] {
  return buildServiceChain(name, policy).map((r) => encodeResource(r));
}

/**
 * Encodes a service's assignments given its encoded chain. Each assignment's version folds in its
 * cluster's version, so a changed cluster always gets its endpoints sent again and Envoy never stays
 * warming (xds-notes §4.1).
 */
function encodeAssignments(chain: readonly EncodedResource[], name: string, instances: readonly Instance[], policy?: RoutePolicy): EncodedResource[] {
  const clusterVersions = new Map(chain.filter((r) => r.typeUrl === TypeUrl.Cluster).map((r) => [r.name, r.version]));
  return buildServiceAssignments(name, instances, policy).map((r) => encodeResource(r, clusterVersions.get(r.name) ?? ''));
}

/** Encodes a service's resources from scratch. */
export const encodeService: ServiceEncoder = (name, instances, policy) => {
  const chain = encodeServiceChain(name, policy);
  return [...chain, ...encodeAssignments(chain, name, instances, policy)];
};

/**
 * An encoder that keeps each service's encoded chain while its policy stays the same, so an endpoint
 * change encodes (and validates) only the assignments. `forget` drops a service that went away.
 */
export function createServiceEncoder(): ServiceEncoder {
  const chains = new Map<string, { policy: RoutePolicy | undefined; chain: EncodedResource[] }>();
  const encoder: ServiceEncoder = (name, instances, policy) => {
    let cached = chains.get(name);
    if (!cached || cached.policy !== policy) chains.set(name, (cached = { policy, chain: encodeServiceChain(name, policy) }));
    return [...cached.chain, ...encodeAssignments(cached.chain, name, instances, policy)];
  };
  return Object.assign(encoder, { forget: (name: string) => void chains.delete(name) });
}
