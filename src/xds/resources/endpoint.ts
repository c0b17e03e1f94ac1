import type { Instance } from '../../catalog/model.ts';
import { TypeUrl } from '../type-urls.ts';
import type { BuiltResource } from './types.ts';

/**
 * ClusterLoadAssignment for a set of instances. Always valid for every client: one locality that is
 * always set with weight >= 1, unique IP-literal endpoints (grpc-js NACKs duplicates, xds-notes §2.5),
 * and an empty assignment when there are no instances (never silence, xds-notes §1.9).
 */
export function buildLoadAssignment(clusterName: string, instances: readonly Instance[]): BuiltResource {
  const seen = new Set<string>();
  const unique = instances.filter((i) => {
    const address = `${i.host}|${i.port}`;
    if (seen.has(address)) return false;
    seen.add(address);
    return true;
  });
  const message =
    unique.length === 0
      ? { cluster_name: clusterName }
      : {
          cluster_name: clusterName,
          endpoints: [
            {
              locality: {},
              load_balancing_weight: { value: unique.reduce((sum, i) => sum + i.weight, 0) },
              lb_endpoints: unique.map((i) => ({
                endpoint: { address: { socket_address: { address: i.host, port_value: i.port } } },
                health_status: 'HEALTHY',
                load_balancing_weight: { value: i.weight },
              })),
            },
          ],
        };
  return { typeUrl: TypeUrl.ClusterLoadAssignment, name: clusterName, message };
}
