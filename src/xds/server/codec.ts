import { messageType } from '../proto.ts';
import type { EncodedResource } from '../snapshot/encoded.ts';
import { WireReader } from '../../lib/wire-reader.ts';
import { PUSH_ORDER } from '../type-urls.ts';
import { Frame, keptUtf8 } from './frame.ts';
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

const NODE_TYPE = 'envoy.config.core.v3.Node';

/**
 * What both request kinds share, read off the wire by hand: every ACK passes through here, and
 * protobufjs would build the whole message, the node and its metadata Struct included, for the few
 * fields used. The node is decoded only when read: the session keeps the first one it sees.
 */
class WireRequest implements RequestCommon {
  typeUrl = '';
  responseNonce = '';
  errorDetail: { code: number; message: string } | undefined = undefined;
  nodeBytes: Buffer | undefined = undefined;
  private decodedNode: NodeInfo | undefined;

  get node(): NodeInfo | undefined {
    if (this.nodeBytes && !this.decodedNode) this.decodedNode = toNodeInfo(messageType(NODE_TYPE).decode(this.nodeBytes) as RawNode);
    return this.decodedNode;
  }
}

class WireDiscoveryRequest extends WireRequest implements DiscoveryRequest {
  versionInfo = '';
  resourceNames: string[] = [];
}

const NO_VERSIONS: ReadonlyMap<string, string> = new Map();

class WireDeltaDiscoveryRequest extends WireRequest implements DeltaDiscoveryRequest {
  subscribe: string[] = [];
  unsubscribe: string[] = [];
  /** Made only when the request carries initial versions (a reconnect); an ACK carries none. */
  versions: Map<string, string> | undefined = undefined;

  get initialResourceVersions(): ReadonlyMap<string, string> {
    return this.versions ?? NO_VERSIONS;
  }
}

// Field numbers are from envoy/service/discovery/v3/discovery.proto and google/rpc/status.proto.
const tag = (field: number, wireType: number) => (field << 3) | wireType;

/** Decodes a `DiscoveryRequest`; throws on a truncated or malformed message. */
export function decodeDiscoveryRequest(bytes: Uint8Array): DiscoveryRequest {
  const r = new WireReader(asBuffer(bytes), 'DiscoveryRequest');
  const req = new WireDiscoveryRequest();
  while (r.pos < r.end) {
    const t = r.varint();
    if (t === tag(1, 2)) req.versionInfo = r.string();
    else if (t === tag(2, 2)) req.nodeBytes = r.bytes();
    else if (t === tag(3, 2)) req.resourceNames.push(r.string());
    else if (t === tag(4, 2)) req.typeUrl = typeUrl(r);
    else if (t === tag(5, 2)) req.responseNonce = r.string();
    else if (t === tag(6, 2)) req.errorDetail = status(r);
    else r.skip(t);
  }
  return req;
}

/** Decodes a `DeltaDiscoveryRequest`; throws on a truncated or malformed message. */
export function decodeDeltaDiscoveryRequest(bytes: Uint8Array): DeltaDiscoveryRequest {
  const r = new WireReader(asBuffer(bytes), 'DeltaDiscoveryRequest');
  const req = new WireDeltaDiscoveryRequest();
  while (r.pos < r.end) {
    const t = r.varint();
    if (t === tag(1, 2)) req.nodeBytes = r.bytes();
    else if (t === tag(2, 2)) req.typeUrl = typeUrl(r);
    else if (t === tag(3, 2)) req.subscribe.push(r.string());
    else if (t === tag(4, 2)) req.unsubscribe.push(r.string());
    else if (t === tag(5, 2)) mapEntry(r, (req.versions ??= new Map()));
    else if (t === tag(6, 2)) req.responseNonce = r.string();
    else if (t === tag(7, 2)) req.errorDetail = status(r);
    else r.skip(t);
  }
  return req;
}

const KNOWN_TYPE_URLS = PUSH_ORDER.map((t) => [Buffer.from(t), t] as const);

/** The ADS type URLs come back as the constants themselves: every ACK carries one, and maps keyed by them then hash nothing new. */
function typeUrl(r: WireReader): string {
  const start = r.span();
  for (const [known, t] of KNOWN_TYPE_URLS) if (r.spanEquals(start, known)) return t;
  return r.spanText(start);
}

/** `google.rpc.Status{code=1, message=2}`; details are not read. */
function status(r: WireReader): { code: number; message: string } {
  const end = r.limit();
  let code = 0;
  let message = '';
  while (r.pos < end) {
    const t = r.varint();
    if (t === tag(1, 0)) code = Number(BigInt.asIntN(32, BigInt(r.int64String())));
    else if (t === tag(2, 2)) message = r.string();
    else r.skip(t);
  }
  return { code, message };
}

/** One `map<string, string>` entry (key=1, value=2); a later entry for a key wins, as in protobuf. */
function mapEntry(r: WireReader, into: Map<string, string>): void {
  const end = r.limit();
  let key = '';
  let value = '';
  while (r.pos < end) {
    const t = r.varint();
    if (t === tag(1, 2)) key = r.string();
    else if (t === tag(2, 2)) value = r.string();
    else r.skip(t);
  }
  into.set(key, value);
}

const asBuffer = (b: Uint8Array): Buffer => (Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength));

interface RawNode {
  id?: string;
  cluster?: string;
  user_agent_name?: string;
  user_agent_version?: string;
  client_features?: string[];
  locality?: { region?: string; zone?: string; sub_zone?: string };
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

// Responses: fields go in the order discovery.proto declares them, as protobufjs writes them.

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
 * concatenation. `headroom` bytes are left free in front, for the transport's prefix.
 */
export function encodeDiscoveryResponse(r: DiscoveryResponseParts, headroom = 0): Buffer {
  const f = new Frame().string(1, r.versionInfo);
  for (const res of r.resources) f.bytes(2, res.any);
  f.bytes(4, keptUtf8(r.typeUrl)).string(5, r.nonce);
  if (r.controlPlaneId) f.bytes(6, controlPlane(r.controlPlaneId));
  return f.finish(headroom);
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
export function encodeDeltaDiscoveryResponse(r: DeltaResponseParts, headroom = 0): Buffer {
  const f = new Frame();
  if (r.systemVersionInfo) f.string(1, r.systemVersionInfo);
  for (const res of r.resources) f.bytes(2, res.deltaResource);
  f.bytes(4, keptUtf8(r.typeUrl));
  for (const name of r.removed) f.string(6, name);
  f.string(5, r.nonce);
  if (r.controlPlaneId) f.bytes(7, controlPlane(r.controlPlaneId));
  return f.finish(headroom);
}
