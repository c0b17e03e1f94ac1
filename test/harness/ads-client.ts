/**
 * A raw ADS client that speaks to the server as Envoy does, over either protocol: a real `@grpc/grpc-js`
 * bidi stream carrying `DiscoveryRequest`/`DeltaDiscoveryRequest` encoded with the protobufjs root of
 * `src/xds/proto.ts` (no grpc-js-xds). Every response is decoded into the Envoy types on arrival; a
 * resource that does not decode, has the wrong `type_url`, or carries bytes the Envoy type does not
 * know (it must re-encode to the same bytes) fails the test that reads it.
 *
 * What the client sends follows Envoy's gRPC mux (xds-notes §1.3–§1.6):
 * - the node (`user_agent_name: 'envoy'`) on every request (Envoy's default, no `set_node_on_first_message_only`);
 * - SotW: every request of a type carries the whole subscribed name list, the last ACKed `version_info`
 *   and the nonce of the last response the client processed (ACKed or NACKed) for that type;
 * - Delta: subscription changes carry `resource_names_subscribe`/`_unsubscribe` and no nonce; ACK/NACK
 *   carry `response_nonce` (and may carry pending subscription changes, as Envoy's `getNextRequestWithAck`);
 * - NACK: SotW keeps the previous good version; both set `error_detail{code: 13 INTERNAL}`.
 * Responses are queued; a test takes them with `next()` and decides when to ACK, which is how it
 * stages stale nonces, withheld CDS ACKs and NACKs.
 *
 * @example
 *   await using envoy = openAdsClient({ address: sy.xdsAddress, protocol: 'delta' });
 *   envoy.subscribe(TypeUrl.Cluster, []);            // wildcard
 *   const cds = await envoy.next(TypeUrl.Cluster);
 *   envoy.ack(cds);
 */
import * as grpc from '@grpc/grpc-js';
import { decodeMessage, encodeMessage, messageType } from '../../src/xds/proto.ts';
import { fullStateInSotW, isAdsTypeUrl, shortTypeName } from '../../src/xds/type-urls.ts';

export type Protocol = 'sotw' | 'delta';

const ADS = '/envoy.service.discovery.v3.AggregatedDiscoveryService/';
const METHOD: Record<Protocol, string> = { sotw: 'StreamAggregatedResources', delta: 'DeltaAggregatedResources' };
const MESSAGES: Record<Protocol, { request: string; response: string }> = {
  sotw: { request: 'envoy.service.discovery.v3.DiscoveryRequest', response: 'envoy.service.discovery.v3.DiscoveryResponse' },
  delta: { request: 'envoy.service.discovery.v3.DeltaDiscoveryRequest', response: 'envoy.service.discovery.v3.DeltaDiscoveryResponse' },
};
/** Envoy's NACK code (`handleBadResponse`: INTERNAL). */
export const ENVOY_NACK_CODE = 13;

export type Decoded = Record<string, any>;

export interface ReceivedResource {
  readonly name: string;
  /** Delta: the per-resource version; SotW: undefined. */
  readonly version: string | undefined;
  /** The resource decoded into its Envoy type (proto field names, enums as names, nested Any as `@type`). */
  readonly body: Decoded;
}

/** One response off the wire, in a shape both protocols share. */
export interface Received {
  readonly protocol: Protocol;
  readonly typeUrl: string;
  readonly nonce: string;
  /** SotW `version_info`; Delta `system_version_info` (debug only). */
  readonly versionInfo: string;
  readonly resources: readonly ReceivedResource[];
  /** Delta `removed_resources`; always empty for SotW. */
  readonly removed: readonly string[];
  readonly controlPlane: string | undefined;
  /** Order of arrival on this stream, from 1. */
  readonly seq: number;
}

export interface StreamStatus {
  readonly code: number;
  readonly details: string;
}

export interface AdsClientOptions {
  /** `host:port` of the ADS server. */
  address: string;
  protocol: Protocol;
  nodeId?: string;
  nodeCluster?: string;
  /** Default 'envoy', which is what Envoy puts in `node.user_agent_name`. */
  userAgentName?: string;
}

interface SotwTypeState {
  names: string[];
  /** Last ACKed version ('' before any). */
  version: string;
  /** Nonce of the last response processed (ACKed or NACKed). */
  nonce: string;
}

interface DeltaTypeState {
  /** Names subscribed explicitly ('*' included when given). */
  names: Set<string>;
  /** name → version of what the client applied (ACKed), for `initial_resource_versions` on reconnect. */
  held: Map<string, string>;
  sentFirst: boolean;
}

export interface SubscribeOptions {
  /** SotW: `version_info` of the first request (a reconnect resumes from the last ACKed version). */
  versionInfo?: string;
  /** Delta: `initial_resource_versions` of the first request of a type on a (re)connected stream. */
  initialResourceVersions?: ReadonlyMap<string, string> | Record<string, string>;
}

export interface AckOptions {
  /** Names the client starts wanting with this ACK (Envoy folds pending subscription changes into it). */
  alsoSubscribe?: readonly string[];
}

export class AdsClient implements AsyncDisposable {
  readonly protocol: Protocol;
  readonly nodeId: string;
  private readonly client: grpc.Client;
  private readonly call: grpc.ClientDuplexStream<Decoded, Uint8Array>;
  private readonly node: Decoded;
  private readonly queue: Received[] = [];
  /** Every response ever received, in order; `next()` does not consume it. */
  readonly received: Received[] = [];
  private waiters: (() => void)[] = [];
  private endStatus: StreamStatus | undefined;
  private readonly statusWaiters: ((s: StreamStatus) => void)[] = [];
  private decodeError: Error | undefined;
  private readonly sotw = new Map<string, SotwTypeState>();
  private readonly delta = new Map<string, DeltaTypeState>();
  /** What the client holds per type after applying (ACKing) responses, as Envoy would. */
  private readonly views = new Map<string, Map<string, ReceivedResource>>();

  constructor({ address, protocol, nodeId, nodeCluster = 'switchyard-conformance', userAgentName = 'envoy' }: AdsClientOptions) {
    this.protocol = protocol;
    this.nodeId = nodeId ?? `envoy-${protocol}-${Math.random().toString(36).slice(2, 10)}`;
    this.node = {
      id: this.nodeId,
      cluster: nodeCluster,
      user_agent_name: userAgentName,
      user_agent_build_version: { version: { major_number: 1, minor_number: 34, patch: 0 } },
      client_features: ['envoy.lb.does_not_support_overprovisioning', 'envoy.lrs.supports_send_all_clusters'],
    };
    const requestType = messageType(MESSAGES[protocol].request);
    this.client = new grpc.Client(address, grpc.credentials.createInsecure());
    this.call = this.client.makeBidiStreamRequest<Decoded, Uint8Array>(
      ADS + METHOD[protocol],
      (req) => {
        const err = requestType.verify(req);
        if (err) throw new Error(`bad ${MESSAGES[protocol].request}: ${err}`);
        return Buffer.from(requestType.encode(requestType.fromObject(req)).finish());
      },
      (bytes) => bytes,
    );
    this.call.on('data', (bytes: Uint8Array) => {
      try {
        const r = this.decode(bytes);
        this.queue.push(r);
        this.received.push(r);
      } catch (e) {
        this.decodeError ??= e as Error;
      }
      this.wake();
    });
    // 'error' carries the same status as 'status'; it must be handled or grpc-js rethrows it.
    this.call.on('error', () => {});
    this.call.on('status', (s: grpc.StatusObject) => {
      this.endStatus = { code: s.code, details: s.details };
      for (const w of this.statusWaiters.splice(0)) w(this.endStatus);
      this.wake();
    });
  }

  // --- requests ---------------------------------------------------------------------------------------

  /** Sends a request as given (the node is added); for malformed or hand-staged requests. */
  send(request: Decoded): void {
    this.call.write({ node: this.node, ...request });
  }

  /**
   * Starts wanting `names` of a type (added to what is wanted already). An empty list on a type's
   * first request is the legacy wildcard Envoy uses for LDS/CDS; `['*']` is the explicit wildcard.
   */
  subscribe(typeUrl: string, names: readonly string[], options: SubscribeOptions = {}): void {
    if (this.protocol === 'sotw') {
      const st = this.sotw.get(typeUrl);
      if (!st) {
        this.sotw.set(typeUrl, { names: [...names], version: options.versionInfo ?? '', nonce: '' });
      } else {
        for (const n of names) if (!st.names.includes(n)) st.names.push(n);
      }
      this.sendSotw(typeUrl);
      return;
    }
    let st = this.delta.get(typeUrl);
    if (!st) this.delta.set(typeUrl, (st = { names: new Set(), held: new Map(), sentFirst: false }));
    for (const n of names) st.names.add(n);
    const initial = options.initialResourceVersions;
    const first = !st.sentFirst;
    st.sentFirst = true;
    if (initial) for (const [n, v] of initial instanceof Map ? initial : Object.entries(initial)) st.held.set(n, v);
    this.send({
      type_url: typeUrl,
      resource_names_subscribe: [...names],
      ...(first && initial ? { initial_resource_versions: Object.fromEntries(initial instanceof Map ? initial : Object.entries(initial)) } : {}),
    });
  }

  /** Stops wanting `names`; SotW sends the shrunken list, Delta sends `resource_names_unsubscribe`. */
  unsubscribe(typeUrl: string, names: readonly string[]): void {
    const view = this.views.get(typeUrl);
    for (const n of names) view?.delete(n);
    if (this.protocol === 'sotw') {
      const st = this.mustSotw(typeUrl);
      st.names = st.names.filter((n) => !names.includes(n));
      this.sendSotw(typeUrl);
      return;
    }
    const st = this.mustDelta(typeUrl);
    for (const n of names) {
      st.names.delete(n);
      st.held.delete(n);
    }
    this.send({ type_url: typeUrl, resource_names_unsubscribe: [...names] });
  }

  /** Applies `response` to the client's view and ACKs it. */
  ack(response: Received, { alsoSubscribe = [] }: AckOptions = {}): void {
    this.apply(response);
    if (this.protocol === 'sotw') {
      const st = this.mustSotw(response.typeUrl);
      st.version = response.versionInfo;
      st.nonce = response.nonce;
      for (const n of alsoSubscribe) if (!st.names.includes(n)) st.names.push(n);
      this.sendSotw(response.typeUrl);
      return;
    }
    const st = this.mustDelta(response.typeUrl);
    for (const n of alsoSubscribe) st.names.add(n);
    this.send({
      type_url: response.typeUrl,
      response_nonce: response.nonce,
      ...(alsoSubscribe.length > 0 ? { resource_names_subscribe: [...alsoSubscribe] } : {}),
    });
  }

  /** Rejects `response` as Envoy does: nothing applied, SotW keeps the previous good version. */
  nack(response: Received, message: string): void {
    const error_detail = { code: ENVOY_NACK_CODE, message };
    if (this.protocol === 'sotw') {
      const st = this.mustSotw(response.typeUrl);
      st.nonce = response.nonce;
      this.sendSotw(response.typeUrl, error_detail);
      return;
    }
    this.send({ type_url: response.typeUrl, response_nonce: response.nonce, error_detail });
  }

  /** name → version the client applied of a type (Delta), for `initial_resource_versions` on reconnect. */
  heldVersions(typeUrl: string): Map<string, string> {
    return new Map(this.delta.get(typeUrl)?.held ?? []);
  }

  /** Last ACKed SotW `version_info` of a type. */
  ackedVersion(typeUrl: string): string {
    return this.sotw.get(typeUrl)?.version ?? '';
  }

  /** What the client holds of a type after the responses it ACKed: name → decoded resource. */
  view(typeUrl: string): Map<string, Decoded> {
    return new Map([...(this.views.get(typeUrl) ?? [])].map(([n, r]) => [n, r.body]));
  }

  // --- responses --------------------------------------------------------------------------------------

  /**
   * The next unconsumed response (of `typeUrl`, if given; other types stay queued). Rejects after
   * `timeoutMs`, or at once if the stream ended or a response failed to decode.
   */
  async next(typeUrl?: string, timeoutMs = 5_000): Promise<Received> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.decodeError) throw this.decodeError;
      const i = this.queue.findIndex((r) => typeUrl === undefined || r.typeUrl === typeUrl);
      if (i >= 0) return this.queue.splice(i, 1)[0]!;
      const what = typeUrl ? shortTypeName(typeUrl) : 'any';
      if (this.endStatus) {
        throw new Error(`ADS stream ended (${this.endStatus.code} ${this.endStatus.details}) while waiting for a ${what} response`);
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`no ${what} response within ${timeoutMs} ms; queued: ${this.describeQueue()}`);
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => (clearTimeout(t), resolve()));
      });
    }
  }

  /** Asserts that no response (of `typeUrl`, if given) arrives within `ms`. */
  async expectNoResponse(ms = 300, typeUrl?: string): Promise<void> {
    await new Promise((r) => setTimeout(r, ms));
    if (this.decodeError) throw this.decodeError;
    const unexpected = this.queue.filter((r) => typeUrl === undefined || r.typeUrl === typeUrl);
    if (unexpected.length > 0) {
      throw new Error(`expected no ${typeUrl ? shortTypeName(typeUrl) : ''} response for ${ms} ms, got: ${this.describeQueue()}`);
    }
  }

  /** Responses received but not yet taken with `next()`. */
  pending(): readonly Received[] {
    return [...this.queue];
  }

  /** Resolves with the stream's final status (code and details) once it ends. */
  status(timeoutMs = 5_000): Promise<StreamStatus> {
    if (this.endStatus) return Promise.resolve(this.endStatus);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`ADS stream did not end within ${timeoutMs} ms`)), timeoutMs);
      this.statusWaiters.push((s) => (clearTimeout(t), resolve(s)));
    });
  }

  /** Cancels the stream (as a disconnecting Envoy does) and closes the channel. */
  close(): void {
    this.call.cancel();
    this.client.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }

  // --- internals --------------------------------------------------------------------------------------

  private sendSotw(typeUrl: string, errorDetail?: { code: number; message: string }): void {
    const st = this.mustSotw(typeUrl);
    this.send({
      type_url: typeUrl,
      resource_names: st.names,
      version_info: st.version,
      response_nonce: st.nonce,
      ...(errorDetail ? { error_detail: errorDetail } : {}),
    });
  }

  private apply(r: Received): void {
    let view = this.views.get(r.typeUrl);
    if (!view) this.views.set(r.typeUrl, (view = new Map()));
    // SotW LDS/CDS carry the whole set: what is missing is gone (xds-notes §1.7).
    if (r.protocol === 'sotw' && isAdsTypeUrl(r.typeUrl) && fullStateInSotW(r.typeUrl)) view.clear();
    for (const res of r.resources) view.set(res.name, res);
    for (const n of r.removed) view.delete(n);
    if (r.protocol === 'delta') {
      const held = this.mustDelta(r.typeUrl).held;
      for (const res of r.resources) held.set(res.name, res.version ?? '');
      for (const n of r.removed) held.delete(n);
    }
  }

  private mustSotw(typeUrl: string): SotwTypeState {
    const st = this.sotw.get(typeUrl);
    if (!st) throw new Error(`no SotW subscription for ${typeUrl}: subscribe first`);
    return st;
  }

  private mustDelta(typeUrl: string): DeltaTypeState {
    let st = this.delta.get(typeUrl);
    // A response for a type never subscribed is itself a protocol error the test will see; track it anyway.
    if (!st) this.delta.set(typeUrl, (st = { names: new Set(), held: new Map(), sentFirst: true }));
    return st;
  }

  private decode(bytes: Uint8Array): Received {
    const seq = this.received.length + 1;
    const type = messageType(MESSAGES[this.protocol].response);
    const msg = type.toObject(type.decode(bytes), { defaults: true, longs: Number, enums: String }) as Decoded;
    const typeUrl: string = msg.type_url;
    const controlPlane: string | undefined = msg.control_plane?.identifier;
    if (this.protocol === 'sotw') {
      const resources = (msg.resources as Decoded[]).map((any, i) => {
        const body = decodeResource(typeUrl, any, `resources[${i}]`);
        return { name: String(body.name ?? body.cluster_name), version: undefined, body };
      });
      return { protocol: 'sotw', typeUrl, nonce: msg.nonce, versionInfo: msg.version_info, resources, removed: [], controlPlane, seq };
    }
    const resources = (msg.resources as Decoded[]).map((r, i) => {
      const body = decodeResource(typeUrl, r.resource, `resources[${i}].resource`);
      const own = String(body.name ?? body.cluster_name);
      if (r.name !== own) throw new Error(`delta resources[${i}]: Resource.name "${r.name}" differs from the resource's own name "${own}"`);
      if (!r.version) throw new Error(`delta resources[${i}] (${r.name}): Resource.version is empty`);
      return { name: r.name as string, version: r.version as string, body };
    });
    if (!msg.nonce) throw new Error('delta response without a nonce (the field is required)');
    return {
      protocol: 'delta',
      typeUrl,
      nonce: msg.nonce,
      versionInfo: msg.system_version_info,
      resources,
      removed: msg.removed_resources,
      controlPlane,
      seq,
    };
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private describeQueue(): string {
    if (this.queue.length === 0) return 'nothing';
    return this.queue
      .map((r) => `${shortTypeName(r.typeUrl)}#${r.nonce}[${r.resources.map((x) => x.name).join(',')}${r.removed.length ? ` -${r.removed.join(',')}` : ''}]`)
      .join(' ');
  }
}

/**
 * Decodes one `Any` into the Envoy type its response announces. protobufjs silently skips fields a
 * type does not declare, so the decoded object must also re-encode to exactly the bytes sent.
 */
function decodeResource(responseTypeUrl: string, any: Decoded | undefined, where: string): Decoded {
  if (!any) throw new Error(`${where}: missing resource`);
  if (any.type_url !== responseTypeUrl) {
    throw new Error(`${where}: Any.type_url ${any.type_url} differs from the response type_url ${responseTypeUrl}`);
  }
  const value = any.value as Uint8Array;
  const body = decodeMessage(responseTypeUrl, value);
  const again = encodeMessage(responseTypeUrl, body);
  if (Buffer.compare(Buffer.from(again), Buffer.from(value)) !== 0) {
    throw new Error(`${where}: ${shortTypeName(responseTypeUrl)} does not round-trip through its Envoy type (unknown or mistyped fields)`);
  }
  return body;
}

/** Opens an ADS stream; nothing is sent until the first `subscribe`/`send`. */
export function openAdsClient(options: AdsClientOptions): AdsClient {
  return new AdsClient(options);
}
