import { EmbeddedTypeUrl, TypeUrl } from '../type-urls.ts';
import { ADS_CONFIG_SOURCE, type BuiltResource } from './types.ts';

export const ROUTER_FILTER = {
  name: 'envoy.filters.http.router',
  typed_config: { '@type': EmbeddedTypeUrl.Router },
} as const;

/**
 * The client-side API listener a proxyless gRPC client asks for when it dials `xds:///<name>`:
 * HCM with routes over RDS and the router as the only (and last) HTTP filter (xds-notes §2.2).
 */
export function buildApiListener(name: string, routeConfigName: string): BuiltResource {
  return {
    typeUrl: TypeUrl.Listener,
    name,
    message: {
      name,
      api_listener: {
        api_listener: {
          '@type': EmbeddedTypeUrl.HttpConnectionManager,
          stat_prefix: name,
          rds: { config_source: ADS_CONFIG_SOURCE, route_config_name: routeConfigName },
          http_filters: [ROUTER_FILTER],
        },
      },
    },
  };
}
