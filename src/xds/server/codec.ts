import protobuf from 'protobufjs';
import { messageType } from '../proto.ts';
import type { NodeInfo } from './hooks.ts';

/** The fields of `DiscoveryRequest` the server reads (xds-notes §1.3). */
export interface DiscoveryRequest {
  readonly versionInfo: string;
  readonly node: NodeInfo | undefined;
  readonly resourceNames: readonly string[];
  readonly typeUrl: string;
  readonly responseNonce: string;
  readonly errorDetail: { readonly code: number; readonly message: string } | undefined;
}

interface RawRequest {
  version_info?: string;
  node?: RawNode;
  resource_names?: string[];
  type_url?: string;
  response_nonce?: string;
  error_detail?: { code?: number; message?: string };
}

interface RawNode {
  id?: string;
  cluster?: string;
  user_agent_name?: string;
  user_agent_version?: string;
  client_features?: string[];
  locality?: { region?: string; zone?: string; sub_zone?: string };
}

export function decodeDiscoveryRequest(bytes: Uint8Array): DiscoveryRequest {
  const type = messageType('envoy.service.discovery.v3.DiscoveryRequest');
  const raw = type.toObject(type.decode(bytes), { longs: Number, enums: String }) as RawRequest;
  return {
    versionInfo: raw.version_info ?? '',
    node: raw.node ? toNodeInfo(raw.node) : undefined,
    resourceNames: raw.resource_names ?? [],
    typeUrl: raw.type_url ?? '',
    responseNonce: raw.response_nonce ?? '',
    errorDetail: raw.error_detail
      ? { code: raw.error_detail.code ?? 0, message: raw.error_detail.message ?? '' }
      : undefined,
  };
}

function toNodeInfo(n: RawNode): NodeInfo {
  return {
    id: n.id ?? '',
    cluster: n.cluster ?? '',
    userAgentName: n.user_agent_name ?? '',
    userAgentVersion: n.user_agent_version ?? '',
    clientFeatures: n.client_features ?? [],
    locality: n.locality ?? {},
  };
}

export interface DiscoveryResponseParts {
  readonly versionInfo: string;
  /** Pre-encoded `google.protobuf.Any` messages, written as they are. */
  readonly resources: readonly Uint8Array[];
  readonly typeUrl: string;
  readonly nonce: string;
  readonly controlPlaneId: string;
}

/**
 * Frames a `DiscoveryResponse` around resources encoded once per change; the per-client cost is this
 * concatenation. Field numbers from envoy/service/discovery/v3/discovery.proto.
 */
export function encodeDiscoveryResponse(r: DiscoveryResponseParts): Uint8Array {
  const w = protobuf.Writer.create();
  w.uint32((1 << 3) | 2).string(r.versionInfo);
  for (const any of r.resources) w.uint32((2 << 3) | 2).bytes(any);
  w.uint32((4 << 3) | 2).string(r.typeUrl);
  w.uint32((5 << 3) | 2).string(r.nonce);
  if (r.controlPlaneId) {
    w.uint32((6 << 3) | 2).fork().uint32((1 << 3) | 2).string(r.controlPlaneId).ldelim();
  }
  return w.finish();
}
