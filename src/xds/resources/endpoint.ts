import type { Instance, Locality } from '../../catalog/model.ts';
import { TypeUrl } from '../type-urls.ts';
import type { BuiltResource, ProtoObject } from './types.ts';

/** The instances of one LocalityLbEndpoints: one (priority, locality) of an assignment. */
export interface LocalityGroup {
  /** Renumbered: contiguous from 0 in the order of the instances' priorities. */
  readonly priority: number;
  readonly locality: Locality;
  /** The sum of its instances' weights (>= 1). */
  readonly weight: number;
  readonly instances: readonly Instance[];
}

/**
 * How a ClusterLoadAssignment groups a set of instances, valid for every client (xds-notes §2.5):
 * - one group per (priority, region, zone, sub_zone), weight = the sum of its instances' weights;
 * - priorities renumbered to be contiguous from 0 (a gap is a NACK), keeping their order, so when every
 *   instance of the most preferred priority is gone, the next one becomes priority 0;
 * - unique IP-literal endpoints (grpc-js NACKs duplicates): the first instance of an address wins.
 * Groups come in a fixed order, so equal instance sets give equal bytes.
 */
export function localityGroups(instances: readonly Instance[]): LocalityGroup[] {
  const unique = uniqueAddresses(instances);
  if (unique.length === 0) return [];
  const first = unique[0]!;
  // The usual case, one priority and one locality, needs no keys.
  if (unique.every((i) => i.priority === first.priority && sameLocality(i.locality, first.locality))) {
    return [group(0, first.locality, unique)];
  }
  const priorities = [...new Set(unique.map((i) => i.priority))].sort((a, b) => a - b);
  const groups = new Map<string, { readonly priority: number; readonly locality: Locality; readonly instances: Instance[] }>();
  for (const i of unique) {
    const priority = priorities.indexOf(i.priority);
    const k = JSON.stringify([priority, i.locality.region, i.locality.zone, i.locality.subZone]);
    let g = groups.get(k);
    if (!g) groups.set(k, (g = { priority, locality: i.locality, instances: [] }));
    g.instances.push(i);
  }
  return [...groups]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, g]) => group(g.priority, g.locality, g.instances));
}

/**
 * ClusterLoadAssignment for a set of instances (see localityGroups): locality always set, draining
 * instances as DRAINING (Envoy stops new requests to them, gRPC clients drop them), and an empty
 * assignment when there are no instances (never silence, xds-notes §1.9).
 */
export function buildLoadAssignment(clusterName: string, instances: readonly Instance[]): BuiltResource {
  const endpoints = localityGroups(instances).map(localityEndpoints);
  const message = endpoints.length === 0 ? { cluster_name: clusterName } : { cluster_name: clusterName, endpoints };
  return { typeUrl: TypeUrl.ClusterLoadAssignment, name: clusterName, message };
}

function uniqueAddresses(instances: readonly Instance[]): readonly Instance[] {
  const seen = new Set<string>();
  const unique = instances.filter((i) => {
    const address = `${i.host}|${i.port}`;
    if (seen.has(address)) return false;
    seen.add(address);
    return true;
  });
  return unique.length === instances.length ? instances : unique;
}

const sameLocality = (a: Locality, b: Locality) => a === b || (a.region === b.region && a.zone === b.zone && a.subZone === b.subZone);

function group(priority: number, locality: Locality, instances: readonly Instance[]): LocalityGroup {
  let weight = 0;
  for (const i of instances) weight += i.weight;
  return { priority, locality, weight, instances };
}

function localityEndpoints({ priority, locality: { region, zone, subZone }, weight, instances }: LocalityGroup): ProtoObject {
  const locality: Record<string, string> = {};
  if (region) locality.region = region;
  if (zone) locality.zone = zone;
  if (subZone) locality.sub_zone = subZone;
  return {
    locality,
    load_balancing_weight: { value: weight },
    ...(priority > 0 ? { priority } : {}),
    lb_endpoints: instances.map((i) => ({
      endpoint: { address: { socket_address: { address: i.host, port_value: i.port } } },
      health_status: i.draining ? 'DRAINING' : 'HEALTHY',
      load_balancing_weight: { value: i.weight },
    })),
  };
}
