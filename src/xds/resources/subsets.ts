import type { Instance } from '../../catalog/model.ts';
import { WHOLE_SERVICE, type RoutePolicy, type SubsetDefinition } from '../../catalog/route-policy.ts';
import { buildEdsCluster } from './cluster.ts';
import { buildLoadAssignment } from './endpoint.ts';
import type { BuiltResource } from './types.ts';

/**
 * The cluster (and EDS name) of one subset. Service names never contain '/', so a subset cluster can
 * never collide with a service's own cluster.
 */
export const subsetClusterName = (service: string, subset: string): string => `${service}/${subset}`;

/** Cluster a route target goes to: the service's own cluster for WHOLE_SERVICE, else the subset's. */
export const targetClusterName = (service: string, to: string): string => (to === WHOLE_SERVICE ? service : subsetClusterName(service, to));

/** Instances the selector picks: same version when it names one, and every tag it names with the same value. */
export function selectSubset(instances: readonly Instance[], selector: Pick<SubsetDefinition, 'version' | 'tags'>): Instance[] {
  const tags = Object.entries(selector.tags);
  return instances.filter(
    (i) => (selector.version === undefined || i.version === selector.version) && tags.every(([k, v]) => Object.hasOwn(i.tags, k) && i.tags[k] === v),
  );
}

/** Subsets some route sends calls to, in the policy's order; defined-but-unused ones get no cluster. */
export function subsetsInUse(policy: RoutePolicy | undefined): SubsetDefinition[] {
  if (!policy) return [];
  const used = new Set(policy.routes.flatMap((r) => r.targets.map((t) => t.to)));
  return policy.subsets.filter((s) => used.has(s.name));
}

/** A cluster per subset in use, named `<service>/<subset>`; it depends on the policy, not on the instances. */
export const buildSubsetClusters = (service: string, policy: RoutePolicy | undefined): BuiltResource[] =>
  subsetsInUse(policy).map((s) => buildEdsCluster(subsetClusterName(service, s.name)));

/**
 * An assignment per subset in use, of the instances it selects. A subset that selects none gets an empty
 * assignment (calls routed to it fail UNAVAILABLE until one appears).
 */
export const buildSubsetAssignments = (service: string, policy: RoutePolicy | undefined, instances: readonly Instance[]): BuiltResource[] =>
  subsetMembers(service, policy, instances).map((m) => buildLoadAssignment(m.clusterName, m.instances));

/** An assignment's cluster and the instances it holds. */
export interface AssignmentMembers {
  readonly clusterName: string;
  readonly instances: readonly Instance[];
}

/** The members of each subset in use, in the policy's order. */
export const subsetMembers = (service: string, policy: RoutePolicy | undefined, instances: readonly Instance[]): AssignmentMembers[] =>
  subsetsInUse(policy).map((s) => ({ clusterName: subsetClusterName(service, s.name), instances: selectSubset(instances, s) }));
