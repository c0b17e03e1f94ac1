import { messageType } from '../proto.ts';
import type { EncodedResource } from '../snapshot/encoded.ts';
import { Frame, utf8 } from './frame.ts';
import type { NodeInfo } from './hooks.ts';

/** Fields both request kinds share. */
interface RequestCommon {
  readonly node: NodeInfo | undefined;
  readonly typeUrl: string;
  readonly responseNonce: string;
  readonly errorDetail: { readonly code: number; readonly message: string } | undefined;
}

/** The fields of `DiscoveryRequest` the server reads (xds-notes §1.3). */
export interface DiscoveryRequest extends RequestCommon {
  readonly versionInfo: string;
  readonly resourceNames: readonly string[];
}

/** The fields of `DeltaDiscoveryRequest` the server reads. */
export interface DeltaDiscoveryRequest extends RequestCommon {
  readonly subscribe: readonly string[];
  readonly unsubscribe: readonly string[];
  readonly initialResourceVersions: ReadonlyMap<string, string>;
}

interface RawCommon {
  node?: RawNode;
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

/**
 * Decodes without `toObject`: every ACK passes through here, and converting the whole message (the node
 * and its metadata Struct included) costs more than reading the few fields used. Unset repeated fields
 * and maps are empty, unset strings are '' on a decoded message.
 */
function decode<T>(typeName: string, bytes: Uint8Array): T {
  return messageType(typeName).decode(bytes) as unknown as T;
}

function common(raw: RawCommon): RequestCommon {
  return {
    node: raw.node ? toNodeInfo(raw.node) : undefined,
    typeUrl: raw.type_url ?? '',
    responseNonce: raw.response_nonce ?? '',
    errorDetail: raw.error_detail
      ? { code: raw.error_detail.code ?? 0, message: raw.error_detail.message ?? '' }
      : undefined,
  };
}

export function decodeDiscoveryRequest(bytes: Uint8Array): DiscoveryRequest {
  const raw = decode<RawCommon & { version_info?: string; resource_names?: string[] }>(
    'envoy.service.discovery.v3.DiscoveryRequest',
    bytes,
  );
  return { ...common(raw), versionInfo: raw.version_info ?? '', resourceNames: raw.resource_names ?? [] };
}

export function decodeDeltaDiscoveryRequest(bytes: Uint8Array): DeltaDiscoveryRequest {
  const raw = decode<
    RawCommon & {
      resource_names_subscribe?: string[];
      resource_names_unsubscribe?: string[];
      initial_resource_versions?: Record<string, string>;
    }
  >('envoy.service.discovery.v3.DeltaDiscoveryRequest', bytes);
  return {
    ...common(raw),
    subscribe: raw.resource_names_subscribe ?? [],
    unsubscribe: raw.resource_names_unsubscribe ?? [],
    initialResourceVersions: new Map(Object.entries(raw.initial_resource_versions ?? {})),
  };
}

function toNodeInfo(n: RawNode): NodeInfo {
  const l = n.locality;
  return {
    id: n.id ?? '',
    cluster: n.cluster ?? '',
    userAgentName: n.user_agent_name ?? '',
    userAgentVersion: n.user_agent_version ?? '',
    clientFeatures: [...(n.client_features ?? [])],
    locality: l ? { region: l.region ?? '', zone: l.zone ?? '', sub_zone: l.sub_zone ?? '' } : {},
  };
}

// Field numbers below are from envoy/service/discovery/v3/discovery.proto; fields go in the order the
// file declares them, as protobufjs writes them.

/** `ControlPlane{identifier=1}`, the same bytes for every response of a server. */
function controlPlane(id: string): Uint8Array {
  let b = controlPlanes.get(id);
  if (!b) controlPlanes.set(id, (b = new Frame().string(1, id).finish()));
  return b;
}
const controlPlanes = new Map<string, Uint8Array>();

export interface DiscoveryResponseParts {
  readonly versionInfo: string;
  readonly resources: readonly EncodedResource[];
  readonly typeUrl: string;
  readonly nonce: string;
  readonly controlPlaneId: string;
}

/**
 * Frames a `DiscoveryResponse` around resources encoded once per change; the per-client cost is this
 * concatenation.
 */
export function encodeDiscoveryResponse(r: DiscoveryResponseParts): Uint8Array {
  const f = new Frame().string(1, r.versionInfo);
  for (const res of r.resources) f.bytes(2, res.any);
  f.bytes(4, utf8(r.typeUrl, true)).string(5, r.nonce);
  if (r.controlPlaneId) f.bytes(6, controlPlane(r.controlPlaneId));
  return f.finish();
}

export interface DeltaResponseParts {
  readonly systemVersionInfo: string;
  readonly resources: readonly EncodedResource[];
  readonly removed: readonly string[];
  readonly typeUrl: string;
  readonly nonce: string;
  readonly controlPlaneId: string;
}

/** Frames a `DeltaDiscoveryResponse`; each resource's `Resource{name, version, Any}` is pre-encoded. */
export function encodeDeltaDiscoveryResponse(r: DeltaResponseParts): Uint8Array {
  const f = new Frame();
  if (r.systemVersionInfo) f.string(1, r.systemVersionInfo);
  for (const res of r.resources) f.bytes(2, res.deltaResource);
  f.bytes(4, utf8(r.typeUrl, true));
  for (const name of r.removed) f.string(6, name);
  f.string(5, r.nonce);
  if (r.controlPlaneId) f.bytes(7, controlPlane(r.controlPlaneId));
  return f.finish();
}
