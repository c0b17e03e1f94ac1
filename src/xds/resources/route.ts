import { TypeUrl } from '../type-urls.ts';
import type { BuiltResource } from './types.ts';

/**
 * One virtual host for the service, matching its name with and without a port (lowercase: grpc-js
 * matches domains case-sensitively, xds-notes §2.3), all paths to the service's cluster.
 */
export function buildServiceRoute(name: string, clusterName: string): BuiltResource {
  return {
    typeUrl: TypeUrl.RouteConfiguration,
    name,
    message: {
      name,
      virtual_hosts: [
        {
          name,
          domains: [name, `${name}:*`],
          routes: [{ match: { prefix: '/' }, route: { cluster: clusterName } }],
        },
      ],
    },
  };
}
