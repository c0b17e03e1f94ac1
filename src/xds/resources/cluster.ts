import { EmbeddedTypeUrl, TypeUrl } from '../type-urls.ts';
import { ADS_CONFIG_SOURCE, type BuiltResource } from './types.ts';

const CONNECT_TIMEOUT = { seconds: 5 };

/**
 * EDS cluster over ADS, ROUND_ROBIN via `lb_policy` (gRPC C-core ignores `load_balancing_policy`,
 * grpc-js prefers it; xds-notes §2.4), HTTP/2 upstream because every registered service speaks gRPC.
 */
export function buildEdsCluster(name: string, edsServiceName: string = name): BuiltResource {
  return {
    typeUrl: TypeUrl.Cluster,
    name,
    message: {
      name,
      type: 'EDS',
      eds_cluster_config: { eds_config: ADS_CONFIG_SOURCE, service_name: edsServiceName },
      connect_timeout: CONNECT_TIMEOUT,
      lb_policy: 'ROUND_ROBIN',
      typed_extension_protocol_options: {
        'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
          '@type': EmbeddedTypeUrl.HttpProtocolOptions,
          explicit_http_config: { http2_protocol_options: {} },
        },
      },
    },
  };
}
