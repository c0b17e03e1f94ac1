import type { Instance } from '../../catalog/model.ts';
import type { RoutePolicy } from '../../catalog/route-policy.ts';
import { buildSubsetClusters, subsetMembers, type AssignmentMembers } from './subsets.ts';
import { buildEdsCluster } from './cluster.ts';
import { buildLoadAssignment } from './endpoint.ts';
import { buildApiListener } from './listener.ts';
import { buildServiceRoute } from './route.ts';
import type { BuiltResource } from './types.ts';

/**
 * The proxyless chain for one service, plus a cluster and assignment per subset its route policy uses
 * (`<name>/<subset>`), every resource named after it (design.md "Resource names"):
 * Listener → RouteConfiguration → Cluster → ClusterLoadAssignment. A service with no instances gets the
 * same chain with an empty assignment, so a client that dials it early waits instead of failing.
 */
export function buildServiceResources(name: string, instances: readonly Instance[], policy?: RoutePolicy): BuiltResource[] {
  return [...buildServiceChain(name, policy), ...buildServiceAssignments(name, instances, policy)];
}

/** What does not depend on the instances: listener, route, the service's and its subsets' clusters. */
export function buildServiceChain(name: string, policy?: RoutePolicy): BuiltResource[] {
  return [buildApiListener(name, name), buildServiceRoute(name, policy), buildEdsCluster(name), ...buildSubsetClusters(name, policy)];
}

/** The endpoint assignments: the service's and one per subset in use. */
export function buildServiceAssignments(name: string, instances: readonly Instance[], policy?: RoutePolicy): BuiltResource[] {
  return serviceAssignmentMembers(name, instances, policy).map((m) => buildLoadAssignment(m.clusterName, m.instances));
}

/** What each of the service's assignments holds: the service's own first, then one per subset in use. */
export function serviceAssignmentMembers(name: string, instances: readonly Instance[], policy?: RoutePolicy): AssignmentMembers[] {
  return [{ clusterName: name, instances }, ...subsetMembers(name, policy, instances)];
}
