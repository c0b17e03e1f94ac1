import type { Instance } from '../../catalog/model.ts';
import type { RoutePolicy } from '../../catalog/route-policy.ts';
import { buildServiceChain, serviceAssignmentMembers } from '../resources/service.ts';
import { TypeUrl } from '../type-urls.ts';
import { encodeAssignment, knownFrom } from './assignment.ts';
import { encodedFrom, encodeResource, type EncodedResource } from './encoded.ts';

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
 * warming (xds-notes §4.1). `known` says which instances were validated before (see encodeAssignment).
 */
function encodeAssignments(
  chain: readonly EncodedResource[],
  name: string,
  instances: readonly Instance[],
  policy: RoutePolicy | undefined,
  known?: (i: Instance) => boolean,
): EncodedResource[] {
  const clusterVersions = new Map(chain.filter((r) => r.typeUrl === TypeUrl.Cluster).map((r) => [r.name, r.version]));
  // Subsets hold instances of the service's own assignment, which comes first and validates them.
  return serviceAssignmentMembers(name, instances, policy).map(({ clusterName, instances: members }, n) =>
    encodedFrom(TypeUrl.ClusterLoadAssignment, clusterName, encodeAssignment(clusterName, members, n === 0 ? known : () => true), clusterVersions.get(clusterName) ?? ''),
  );
}

/** Encodes a service's resources from scratch. */
export const encodeService: ServiceEncoder = (name, instances, policy) => {
  const chain = encodeServiceChain(name, policy);
  return [...chain, ...encodeAssignments(chain, name, instances, policy)];
};

/**
 * An encoder that keeps, per service, its encoded chain while its policy stays the same, so an
 * endpoint change encodes only the assignments, and the instances it last encoded, so only new ones
 * are validated. `forget` drops a service that went away.
 */
export function createServiceEncoder(): ServiceEncoder {
  const kept = new Map<string, { policy: RoutePolicy | undefined; chain: EncodedResource[]; instances: readonly Instance[] }>();
  const encoder: ServiceEncoder = (name, instances, policy) => {
    let k = kept.get(name);
    const known = k && knownFrom(k.instances, instances);
    if (!k || k.policy !== policy) k = { policy, chain: encodeServiceChain(name, policy), instances: [] };
    const assignments = encodeAssignments(k.chain, name, instances, policy, known);
    k.instances = instances;
    kept.set(name, k);
    return [...k.chain, ...assignments];
  };
  return Object.assign(encoder, { forget: (name: string) => void kept.delete(name) });
}
