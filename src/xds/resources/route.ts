import { TypeUrl } from '../type-urls.ts';
import type { BuiltResource, ProtoObject } from './types.ts';

/**
 * A service's virtual host: its name with and without a port (lowercase: grpc-js matches domains
 * case-sensitively, xds-notes §2.3), every path to the service's cluster. The route timeout is off
 * because Envoy's default 15 s would cut long-lived gRPC streams; gRPC ignores it.
 */
export function buildServiceVirtualHost(name: string, clusterName: string): ProtoObject {
  return {
    name,
    domains: [name, `${name}:*`],
    routes: [{ match: { prefix: '/' }, route: { cluster: clusterName, timeout: {} } }],
  };
}

/** The RouteConfiguration a proxyless client gets for `xds:///<name>`. */
export function buildServiceRoute(name: string, clusterName: string): BuiltResource {
  return {
    typeUrl: TypeUrl.RouteConfiguration,
    name,
    message: { name, virtual_hosts: [buildServiceVirtualHost(name, clusterName)] },
  };
}
