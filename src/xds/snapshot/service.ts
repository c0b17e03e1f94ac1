import type { Instance } from '../../catalog/model.ts';
import type { RoutePolicy } from '../../catalog/route-policy.ts';
import { buildServiceResources } from '../resources/service.ts';
import { TypeUrl } from '../type-urls.ts';
import { encodeResource, type EncodedResource } from './encoded.ts';

/**
 * Encodes a service's chain. The assignment's version folds in the cluster's version, so a changed
 * cluster always gets its endpoints sent again and Envoy never stays warming (xds-notes §4.1).
 */
export function encodeService(name: string, instances: readonly Instance[], policy?: RoutePolicy): EncodedResource[] {
  const built = buildServiceResources(name, instances, policy);
  const clusterVersions = new Map<string, string>();
  const out: EncodedResource[] = [];
  for (const r of built) {
    if (r.typeUrl === TypeUrl.ClusterLoadAssignment) continue;
    const e = encodeResource(r);
    if (r.typeUrl === TypeUrl.Cluster) clusterVersions.set(r.name, e.version);
    out.push(e);
  }
  for (const r of built) {
    if (r.typeUrl === TypeUrl.ClusterLoadAssignment) out.push(encodeResource(r, clusterVersions.get(r.name) ?? ''));
  }
  return out;
}
