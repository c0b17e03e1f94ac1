import type { PolicyEntry } from '../../catalog/model.ts';
import { EmbeddedTypeUrl, TypeUrl } from '../type-urls.ts';
import { ROUTER_FILTER } from './listener.ts';
import { buildServiceVirtualHost } from './route.ts';
import { ADS_CONFIG_SOURCE, type BuiltResource } from './types.ts';

/**
 * Name of the Envoy sidecar's outbound Listener and its RouteConfiguration. The `/` keeps it apart
 * from every service name, so a proxyless client can never ask for it by accident.
 */
export const OUTBOUND = 'switchyard/outbound';

export interface EnvoyListenerOptions {
  /** Address the sidecar's outbound listener binds (default 0.0.0.0). */
  readonly address: string;
  /** Port applications send their calls to (default 15001). */
  readonly port: number;
}

/**
 * The TCP listener an Envoy sidecar gets from wildcard LDS: one HTTP connection manager that takes
 * its routes over RDS (xds-notes §2.8, "Envoy sidecar listener").
 */
export function buildOutboundListener({ address, port }: EnvoyListenerOptions): BuiltResource {
  return {
    typeUrl: TypeUrl.Listener,
    name: OUTBOUND,
    message: {
      name: OUTBOUND,
      address: { socket_address: { address, port_value: port } },
      filter_chains: [
        {
          filters: [
            {
              name: 'envoy.filters.network.http_connection_manager',
              typed_config: {
                '@type': EmbeddedTypeUrl.HttpConnectionManager,
                stat_prefix: 'switchyard_outbound',
                codec_type: 'AUTO',
                rds: { config_source: ADS_CONFIG_SOURCE, route_config_name: OUTBOUND },
                http_filters: [ROUTER_FILTER],
              },
            },
          ],
        },
      ],
    },
  };
}

/**
 * One virtual host per registered service, matched on the request's `:authority`, and a last
 * catch-all that answers 404 with a hint instead of Envoy's bare "no route".
 */
export function buildOutboundRoute(services: readonly string[], policies: ReadonlyMap<string, PolicyEntry> = new Map()): BuiltResource {
  return {
    typeUrl: TypeUrl.RouteConfiguration,
    name: OUTBOUND,
    message: {
      name: OUTBOUND,
      virtual_hosts: [
        ...[...services].sort().map((s) => buildServiceVirtualHost(s, policies.get(s)?.policy)),
        {
          name: 'switchyard/unknown-host',
          domains: ['*'],
          routes: [
            {
              match: { prefix: '/' },
              direct_response: {
                status: 404,
                body: {
                  inline_string:
                    'switchyard: no service is registered under this host name; register instances under /services/<host>/<ip:port>\n',
                },
              },
            },
          ],
        },
      ],
    },
  };
}
