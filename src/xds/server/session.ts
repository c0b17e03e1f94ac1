import type { ResourceChanges } from '../snapshot/store.ts';
import { isAdsTypeUrl, PUSH_ORDER, type AdsTypeUrl } from '../type-urls.ts';
import type { DeltaDiscoveryRequest, DiscoveryRequest } from './codec.ts';
import { GrpcStatus } from './grpc-stream-server.ts';
import type { Framed, SharedResponses } from './shared-responses.ts';
import type { NodeInfo, ServerHooks } from './hooks.ts';
import { noInterest, type InterestIndex } from './interest.ts';
import { Subscription, type NonceCheck, type ResourceLookup } from './subscription.ts';

/** The transport a session writes to; the gRPC call in production, an array in unit tests. */
export interface ResponseSink {
  /** Bytes the transport wants free in front of each response, for its own prefix (0 when absent). */
  readonly headroom?: number;
  /** One encoded response, after `headroom` free bytes. */
  send(bytes: Uint8Array): void;
  fail(code: GrpcStatus, details: string): void;
}

export interface SessionDeps {
  readonly streamId: number;
  readonly snapshot: () => ResourceLookup;
  readonly sink: ResponseSink;
  readonly hooks: ServerHooks;
  readonly controlPlaneId: string;
  /** Largest response to send; gRPC clients reject bigger messages and drop the stream (default 4 MiB). */
  readonly maxResponseBytes?: number;
  /** Where the session's subscriptions register what they want, so changes reach only the streams they concern. */
  readonly interest?: InterestIndex<SnapshotObserver>;
  /** Responses framed once for every stream that gets the same one; without it, each stream frames its own. */
  readonly shared?: SharedResponses;
}

/** What the server tells of snapshot changes. */
export interface SnapshotObserver {
  onSnapshot(changes: ResourceChanges): void;
}

export const DEFAULT_MAX_RESPONSE_BYTES = 4 * 1024 * 1024;
/** Room for the response's own fields around the resources. */
const FRAMING_ALLOWANCE = 16 * 1024;

/**
 * What SotW and Delta ADS streams share: the node, per-type subscriptions, ACK/NACK bookkeeping,
 * stale-nonce handling and make-before-break push order. Subclasses say how a request changes a
 * subscription and how a response is planned and framed.
 */
export abstract class AdsSession<Req extends DiscoveryRequest | DeltaDiscoveryRequest> implements SnapshotObserver {
  abstract readonly protocol: 'sotw' | 'delta';
  private node: NodeInfo | undefined;
  private readonly subscriptions = new Map<AdsTypeUrl, Subscription>();
  private nonceCounter = 0;

  constructor(protected readonly deps: SessionDeps) {}

  get streamId(): number {
    return this.deps.streamId;
  }

  get nodeInfo(): NodeInfo | undefined {
    return this.node;
  }

  /** Per-type view for admin/CSDS: what is subscribed, held, ACKed and NACKed. */
  subscriptionStates(): ReadonlyMap<AdsTypeUrl, Subscription> {
    return this.subscriptions;
  }

  protected abstract updateSubscription(sub: Subscription, req: Req, firstForType: boolean): void;
  protected abstract versionOf(req: Req): string;
  protected abstract names(req: Req): readonly string[];
  /** Plans and sends what `sub` is missing, if anything. */
  protected abstract answer(sub: Subscription): void;

  private respond(sub: Subscription): void {
    if (!sub.dirty) return;
    sub.dirty = false;
    this.answer(sub);
  }

  onRequest(req: Req): void {
    // xds-notes §1.4: only the first request is guaranteed to carry the node.
    if (!this.node && req.node) this.node = req.node;
    const ref = { streamId: this.streamId, node: this.node };
    if (!req.typeUrl) {
      this.deps.sink.fail(GrpcStatus.INVALID_ARGUMENT, 'type_url is required on an aggregated (ADS) stream');
      return;
    }
    if (!isAdsTypeUrl(req.typeUrl)) {
      this.emitRequest(req, false);
      return;
    }
    let sub = this.subscriptions.get(req.typeUrl);
    const firstForType = !sub;
    if (!sub) {
      sub = new Subscription(req.typeUrl, this.deps.interest?.listener(req.typeUrl, this) ?? noInterest);
      this.subscriptions.set(req.typeUrl, sub);
    }
    const nonceCheck = this.checkNonce(sub, req);

    if (req.responseNonce && nonceCheck === 'current') {
      // xds-notes §1.5: a NACK is a request with error_detail, whatever its version says.
      const answer = { ...ref, typeUrl: req.typeUrl, versionInfo: this.versionOf(req), nonce: req.responseNonce };
      if (req.errorDetail) {
        sub.nack(req.responseNonce, answer.versionInfo, req.errorDetail.message);
        this.deps.hooks.emit('nack', { ...answer, code: req.errorDetail.code, message: req.errorDetail.message });
      } else {
        sub.ack(answer.versionInfo);
        this.deps.hooks.emit('ack', answer);
      }
    }
    // The subscription follows every request, stale or not, so no name change is lost (xds-notes §6 #1).
    this.updateSubscription(sub, req, firstForType);
    this.emitRequest(req, nonceCheck === 'stale');
    if (nonceCheck === 'current') this.respond(sub);
  }

  /** Whether a request answers the last response sent; overridden where the protocol differs. */
  protected checkNonce(sub: Subscription, req: Req): NonceCheck {
    return sub.checkNonce(req.responseNonce);
  }

  /**
   * Pushes what changed in make-before-break order (xds-notes §1.10): clusters, endpoints, listeners,
   * routes, and only then pushes that merely remove something.
   */
  onSnapshot(changes: ResourceChanges): void {
    const snapshot = this.deps.snapshot();
    let removalsOnly: Subscription[] | undefined;
    for (const typeUrl of PUSH_ORDER) {
      const names = changes.get(typeUrl);
      const sub = names && this.subscriptions.get(typeUrl);
      if (!sub) continue;
      if (!sub.isWildcard && !concernsAny(sub, names)) continue;
      sub.touched(names);
      if (sub.onlyRemovalsPending(snapshot)) (removalsOnly ??= []).push(sub);
      else this.respond(sub);
    }
    if (removalsOnly) for (const sub of removalsOnly) this.respond(sub);
  }

  /** The stream ended: its subscriptions stop receiving changes. */
  close(): void {
    for (const sub of this.subscriptions.values()) sub.close();
  }

  private emitRequest(req: Req, stale: boolean): void {
    if (!this.deps.hooks.has('request')) return;
    this.deps.hooks.emit('request', {
      streamId: this.streamId,
      node: this.node,
      typeUrl: req.typeUrl,
      resourceNames: this.names(req),
      versionInfo: this.versionOf(req),
      responseNonce: req.responseNonce,
      stale,
    });
  }

  /** Bytes to leave free in front of each encoded response. */
  protected get headroom(): number {
    return this.deps.sink.headroom ?? 0;
  }

  /** Frames a response, or takes the one already framed for another stream when `key` matches. */
  protected framed(key: string | undefined, frame: (nonce: string) => Uint8Array): Framed {
    const shared = this.deps.shared;
    if (shared && key !== undefined) return shared.get(this.deps.snapshot(), key, frame);
    const nonce = String(++this.nonceCounter);
    return { nonce, bytes: frame(nonce) };
  }

  /**
   * Splits resources into groups whose responses stay under the size limit (prefix-ordered). A single
   * resource that cannot fit is left out and reported, never sent to kill the stream (prior-art #12).
   */
  protected chunk<T extends { readonly name: string }>(typeUrl: AdsTypeUrl, items: readonly T[], sizeOf: (t: T) => number): (readonly T[])[] {
    const limit = (this.deps.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES) - FRAMING_ALLOWANCE;
    if (items.length === 1 && sizeOf(items[0]!) + 8 <= limit) return [items];
    const chunks: T[][] = [[]];
    let size = 0;
    for (const item of items) {
      const n = sizeOf(item) + 8;
      if (n > limit) {
        this.refuse(typeUrl, `resource ${item.name} is ${n} bytes, over the ${limit}-byte response limit`, n);
        continue;
      }
      if (size + n > limit && chunks.at(-1)!.length > 0) {
        chunks.push([]);
        size = 0;
      }
      chunks.at(-1)!.push(item);
      size += n;
    }
    return chunks;
  }

  /** True when `bytes` fits in one response. */
  protected fits(bytes: number): boolean {
    return bytes + FRAMING_ALLOWANCE <= (this.deps.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES);
  }

  protected refuse(typeUrl: AdsTypeUrl, reason: string, bytes: number): void {
    this.deps.hooks.emit('refused', { streamId: this.streamId, node: this.node, typeUrl, reason, bytes });
  }

  protected emitResponse(typeUrl: AdsTypeUrl, versionInfo: string, nonce: string, resources: readonly { name: string }[], bytes: number): void {
    if (!this.deps.hooks.has('response')) return;
    const resourceNames = resources.map((r) => r.name);
    this.deps.hooks.emit('response', { streamId: this.streamId, node: this.node, typeUrl, versionInfo, nonce, resourceNames, bytes });
  }
}

function concernsAny(sub: Subscription, names: ReadonlySet<string>): boolean {
  for (const n of names) if (sub.concerns(n)) return true;
  return false;
}
