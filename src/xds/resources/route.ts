import type { RoutePolicy } from '../../catalog/route-policy.ts';
import { TypeUrl } from '../type-urls.ts';
import { buildPolicyRoutes } from './policy-routes.ts';
import type { BuiltResource, ProtoObject } from './types.ts';

/**
 * A service's virtual host: its name with and without a port (lowercase: grpc-js matches domains
 * case-sensitively, xds-notes §2.3), routes from its policy or, without one, everything to the service's
 * cluster with the route timeout off (Envoy's default 15 s would cut long-lived gRPC streams).
 */
export function buildServiceVirtualHost(name: string, policy?: RoutePolicy): ProtoObject {
  return { name, domains: [name, `${name}:*`], routes: buildPolicyRoutes(name, policy) };
}

/** The RouteConfiguration a proxyless client gets for `xds:///<name>`. */
export function buildServiceRoute(name: string, policy?: RoutePolicy): BuiltResource {
  return {
    typeUrl: TypeUrl.RouteConfiguration,
    name,
    message: { name, virtual_hosts: [buildServiceVirtualHost(name, policy)] },
  };
}
