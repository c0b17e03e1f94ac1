import { encodeDeltaDiscoveryResponse, type DeltaDiscoveryRequest } from './codec.ts';
import { AdsSession } from './session.ts';
import { responseKey } from './shared-responses.ts';
import type { DeltaPlan, NonceCheck, Subscription } from './subscription.ts';

/** An incremental ADS stream (`DeltaAggregatedResources`): per-resource versions and removals. */
export class DeltaSession extends AdsSession<DeltaDiscoveryRequest> {
  readonly protocol = 'delta';

  protected updateSubscription(sub: Subscription, req: DeltaDiscoveryRequest, firstForType: boolean): void {
    // initial_resource_versions is only meaningful on the first request of a type (xds-notes §1.3).
    sub.updateDelta(req.subscribe, req.unsubscribe, firstForType ? req.initialResourceVersions : undefined);
  }

  /** Envoy sends Delta subscription changes without a nonce; only ACKs and NACKs carry one (xds-notes §1.3). */
  protected override checkNonce(sub: Subscription, req: DeltaDiscoveryRequest): NonceCheck {
    return req.responseNonce ? sub.checkNonce(req.responseNonce) : 'current';
  }

  protected versionOf(): string {
    return '';
  }

  protected names(req: DeltaDiscoveryRequest): readonly string[] {
    return req.subscribe;
  }

  /** Delta responses are independent sets of changes, so an oversized one is split. */
  protected answer(sub: Subscription): void {
    const plan = sub.planDelta(this.deps.snapshot());
    if (!plan) return;
    const chunks = this.chunk(plan.typeUrl, plan.resources, (r) => r.deltaResource.length);
    if (chunks.length === 1 && chunks[0] === plan.resources) return this.send(sub, plan);
    chunks.forEach((resources, i) => {
      const removed = i === chunks.length - 1 ? plan.removed : [];
      if (resources.length > 0 || removed.length > 0) this.send(sub, { ...plan, resources, removed });
    });
  }

  private send(sub: Subscription, plan: DeltaPlan): void {
    // Debug-only in the protocol (xds-notes §1.11): the snapshot revision says which etcd state it reflects.
    const systemVersionInfo = String(this.deps.snapshot().revision);
    const { bytes, nonce } = this.framed(responseKey(plan.typeUrl, systemVersionInfo, plan.resources, plan.removed), (nonce) =>
      encodeDeltaDiscoveryResponse({ ...plan, systemVersionInfo, nonce, controlPlaneId: this.deps.controlPlaneId }, this.headroom),
    );
    sub.sentDelta(plan, nonce);
    this.deps.sink.send(bytes);
    this.emitResponse(plan.typeUrl, systemVersionInfo, nonce, plan.resources, bytes.length - this.headroom);
  }
}
