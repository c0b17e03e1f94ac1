/**
 * The bootstrap a proxyless gRPC client needs to find Switchyard (xds-notes §3.1). Pure: callers decide where it
 * goes (`GRPC_XDS_BOOTSTRAP_CONFIG` holds the JSON itself, `GRPC_XDS_BOOTSTRAP` a path to it).
 */

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export interface GrpcLocality {
  region?: string;
  zone?: string;
  sub_zone?: string;
}

export interface GrpcBootstrapOptions {
  /** gRPC target of the control plane, e.g. `127.0.0.1:18000`. */
  serverUri: string;
  nodeId: string;
  cluster?: string;
  locality?: GrpcLocality;
  /** Becomes `node.metadata`, a `google.protobuf.Struct`: JSON values only. */
  metadata?: Record<string, JsonValue>;
  /** A53: the client ignores LDS/CDS resources missing from a response instead of deleting them. */
  ignoreResourceDeletion?: boolean;
}

export interface GrpcBootstrap {
  xds_servers: {
    server_uri: string;
    channel_creds: { type: 'insecure' }[];
    server_features: string[];
  }[];
  node: {
    id: string;
    cluster?: string;
    locality: GrpcLocality;
    metadata?: Record<string, JsonValue>;
  };
  server_listener_resource_name_template: string;
  client_default_listener_resource_name_template: string;
}

/** @example process.env.GRPC_XDS_BOOTSTRAP_CONFIG = JSON.stringify(grpcBootstrap({ serverUri: '127.0.0.1:18000', nodeId: 'c1' })) */
export function grpcBootstrap({
  serverUri,
  nodeId,
  cluster,
  locality = {},
  metadata,
  ignoreResourceDeletion = false,
}: GrpcBootstrapOptions): GrpcBootstrap {
  return {
    xds_servers: [
      {
        server_uri: serverUri,
        channel_creds: [{ type: 'insecure' }],
        // A30: 'xds_v3' is meaningless to v3-only clients but older ones need it.
        server_features: ignoreResourceDeletion ? ['xds_v3', 'ignore_resource_deletion'] : ['xds_v3'],
      },
    ],
    node: {
      id: nodeId,
      ...(cluster !== undefined && { cluster }),
      // grpc-js rejects a node without `locality` ("locality field missing in node element"); {} is accepted.
      locality: { ...locality },
      ...(metadata !== undefined && { metadata: { ...metadata } }),
    },
    // A36: required for xDS-enabled servers; harmless for clients.
    server_listener_resource_name_template: 'grpc/server?xds.resource.listening_address=%s',
    // A47: Listener name = target path, e.g. xds:///greeter → 'greeter'.
    client_default_listener_resource_name_template: '%s',
  };
}
