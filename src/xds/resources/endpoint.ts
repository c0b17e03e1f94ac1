import type { Instance } from '../../catalog/model.ts';
import { TypeUrl } from '../type-urls.ts';
import type { BuiltResource, ProtoObject } from './types.ts';

/**
 * ClusterLoadAssignment for a set of instances, valid for every client (xds-notes §2.5):
 * - one LocalityLbEndpoints per (priority, region, zone, sub_zone), locality always set, weight = the sum
 *   of its instances' weights (>= 1);
 * - priorities renumbered to be contiguous from 0 (a gap is a NACK), keeping their order, so when every
 *   instance of the most preferred priority is gone, the next one becomes priority 0;
 * - unique IP-literal endpoints (grpc-js NACKs duplicates);
 * - draining instances as DRAINING: Envoy stops new requests to them, gRPC clients drop them;
 * - an empty assignment when there are no instances (never silence, xds-notes §1.9).
 */
export function buildLoadAssignment(clusterName: string, instances: readonly Instance[]): BuiltResource {
  const seen = new Set<string>();
  const unique = instances.filter((i) => {
    const address = `${i.host}|${i.port}`;
    if (seen.has(address)) return false;
    seen.add(address);
    return true;
  });
  const priorities = [...new Set(unique.map((i) => i.priority))].sort((a, b) => a - b);
  const groups = new Map<string, { readonly at: LocalityAt; readonly instances: Instance[] }>();
  for (const i of unique) {
    const at: LocalityAt = [priorities.indexOf(i.priority), i.locality.region, i.locality.zone, i.locality.subZone];
    const k = JSON.stringify(at);
    let g = groups.get(k);
    if (!g) groups.set(k, (g = { at, instances: [] }));
    g.instances.push(i);
  }
  const endpoints = [...groups]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, g]) => localityEndpoints(g.at, g.instances));
  const message = endpoints.length === 0 ? { cluster_name: clusterName } : { cluster_name: clusterName, endpoints };
  return { typeUrl: TypeUrl.ClusterLoadAssignment, name: clusterName, message };
}

/** Priority (renumbered), region, zone, sub-zone. */
type LocalityAt = [number, string, string, string];

function localityEndpoints([priority, region, zone, subZone]: LocalityAt, instances: Instance[]): ProtoObject {
  const locality: Record<string, string> = {};
  if (region) locality.region = region;
  if (zone) locality.zone = zone;
  if (subZone) locality.sub_zone = subZone;
  return {
    locality,
    load_balancing_weight: { value: instances.reduce((sum, i) => sum + i.weight, 0) },
    ...(priority > 0 ? { priority } : {}),
    lb_endpoints: instances.map((i) => ({
      endpoint: { address: { socket_address: { address: i.host, port_value: i.port } } },
      health_status: i.draining ? 'DRAINING' : 'HEALTHY',
      load_balancing_weight: { value: i.weight },
    })),
  };
}
