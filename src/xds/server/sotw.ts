import type { ResourceChanges } from '../snapshot/store.ts';
import { isAdsTypeUrl, PUSH_ORDER, type AdsTypeUrl } from '../type-urls.ts';
import { encodeDiscoveryResponse, type DiscoveryRequest } from './codec.ts';
import type { NodeInfo, ServerHooks } from './hooks.ts';
import { Subscription, type PlannedResponse, type ResourceLookup } from './subscription.ts';

/** The transport a session writes to; the gRPC call in production, an array in unit tests. */
export interface ResponseSink {
  send(bytes: Uint8Array): void;
  fail(code: number, details: string): void;
}

const INVALID_ARGUMENT = 3;

/**
 * One state-of-the-world ADS stream: per-type subscriptions, ACK/NACK bookkeeping and what to send
 * when a request arrives or the snapshot changes.
 */
export class SotwSession {
  private node: NodeInfo | undefined;
  private readonly subscriptions = new Map<AdsTypeUrl, Subscription>();
  private nonceCounter = 0;

  constructor(
    readonly streamId: number,
    private readonly snapshot: () => ResourceLookup,
    private readonly sink: ResponseSink,
    private readonly hooks: ServerHooks,
    private readonly controlPlaneId: string,
  ) {}

  get nodeInfo(): NodeInfo | undefined {
    return this.node;
  }

  /** Per-type view for admin/CSDS: what is subscribed, sent, ACKed and NACKed. */
  subscriptionStates(): ReadonlyMap<AdsTypeUrl, Subscription> {
    return this.subscriptions;
  }

  onRequest(req: DiscoveryRequest): void {
    // xds-notes §1.4: only the first request is guaranteed to carry the node.
    if (!this.node && req.node) this.node = req.node;
    const ref = { streamId: this.streamId, node: this.node };
    if (!req.typeUrl) {
      this.sink.fail(INVALID_ARGUMENT, 'type_url is required on an aggregated (ADS) stream');
      return;
    }
    if (!isAdsTypeUrl(req.typeUrl)) {
      this.hooks.emit('request', { ...ref, ...requestFields(req), stale: false });
      return;
    }
    let sub = this.subscriptions.get(req.typeUrl);
    if (!sub) this.subscriptions.set(req.typeUrl, (sub = new Subscription(req.typeUrl)));
    const nonceCheck = sub.checkNonce(req.responseNonce);

    if (req.responseNonce && nonceCheck === 'current') {
      // xds-notes §1.5: a NACK is a request with error_detail, whatever its version says.
      if (req.errorDetail) {
        sub.nack(req.responseNonce, req.versionInfo, req.errorDetail.message);
        this.hooks.emit('nack', {
          ...ref,
          typeUrl: req.typeUrl,
          versionInfo: req.versionInfo,
          nonce: req.responseNonce,
          code: req.errorDetail.code,
          message: req.errorDetail.message,
        });
      } else {
        sub.ack(req.versionInfo);
        this.hooks.emit('ack', { ...ref, typeUrl: req.typeUrl, versionInfo: req.versionInfo, nonce: req.responseNonce });
      }
    }
    // The subscription follows every request, stale or not, so no name change is lost (xds-notes §6 #1).
    sub.setNames(req.resourceNames);
    this.hooks.emit('request', { ...ref, ...requestFields(req), stale: nonceCheck === 'stale' });
    if (nonceCheck === 'stale') return;
    this.respond(sub);
  }

  /** Pushes what changed, in make-before-break order (clusters, endpoints, listeners, routes). */
  onSnapshot(changes: ResourceChanges): void {
    for (const typeUrl of PUSH_ORDER) {
      const sub = this.subscriptions.get(typeUrl);
      const names = changes.get(typeUrl);
      if (!sub || !names) continue;
      if (sub.isWildcard || [...names].some((n) => sub.concerns(n))) this.respond(sub);
    }
  }

  private respond(sub: Subscription): void {
    const plan = sub.plan(this.snapshot());
    if (!plan) return;
    this.send(sub, plan);
  }

  private send(sub: Subscription, plan: PlannedResponse): void {
    const nonce = String(++this.nonceCounter);
    const bytes = encodeDiscoveryResponse({
      versionInfo: plan.versionInfo,
      resources: plan.resources.map((r) => r.any),
      typeUrl: plan.typeUrl,
      nonce,
      controlPlaneId: this.controlPlaneId,
    });
    sub.sent(plan, nonce);
    this.sink.send(bytes);
    this.hooks.emit('response', {
      streamId: this.streamId,
      node: this.node,
      typeUrl: plan.typeUrl,
      versionInfo: plan.versionInfo,
      nonce,
      resourceNames: plan.resources.map((r) => r.name),
      bytes: bytes.length,
    });
  }
}

function requestFields(req: DiscoveryRequest) {
  return {
    typeUrl: req.typeUrl,
    resourceNames: req.resourceNames,
    versionInfo: req.versionInfo,
    responseNonce: req.responseNonce,
  };
}
