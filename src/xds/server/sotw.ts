import { encodeDiscoveryResponse, type DiscoveryRequest } from './codec.ts';
import { AdsSession } from './session.ts';
import type { Subscription } from './subscription.ts';

/** A state-of-the-world ADS stream (`StreamAggregatedResources`). */
export class SotwSession extends AdsSession<DiscoveryRequest> {
  readonly protocol = 'sotw';

  protected updateSubscription(sub: Subscription, req: DiscoveryRequest): void {
    sub.setNames(req.resourceNames);
  }

  protected versionOf(req: DiscoveryRequest): string {
    return req.versionInfo;
  }

  protected names(req: DiscoveryRequest): readonly string[] {
    return req.resourceNames;
  }

  protected respond(sub: Subscription): void {
    const plan = sub.planSotw(this.deps.snapshot());
    if (!plan) return;
    const nonce = this.nextNonce();
    const bytes = encodeDiscoveryResponse({ ...plan, nonce, controlPlaneId: this.deps.controlPlaneId });
    sub.sentSotw(plan, nonce);
    this.deps.sink.send(bytes);
    this.emitResponse(plan.typeUrl, plan.versionInfo, nonce, plan.resources.map((r) => r.name), bytes.length);
  }
}
