import { encodeDiscoveryResponse, type DiscoveryRequest } from './codec.ts';
import { AdsSession } from './session.ts';
import { responseKey } from './shared-responses.ts';
import { fullStateInSotW } from '../type-urls.ts';
import type { SotwPlan, Subscription } from './subscription.ts';

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

  /**
   * LDS/CDS must go out whole (omission deletes), so an oversized full state is refused and the client
   * keeps what it has; RDS/EDS may be split across responses.
   */
  protected answer(sub: Subscription): void {
    const plan = sub.planSotw(this.deps.snapshot());
    if (!plan) return;
    const total = plan.resources.reduce((n, r) => n + r.any.length + 8, 0);
    if (fullStateInSotW(plan.typeUrl)) {
      if (!this.fits(total)) {
        this.refuse(plan.typeUrl, `full state of ${plan.resources.length} resources is ${total} bytes, over the response limit`, total);
        return;
      }
      this.send(sub, plan);
      return;
    }
    for (const resources of this.chunk(plan.typeUrl, plan.resources, (r) => r.any.length)) {
      if (resources.length > 0) this.send(sub, { ...plan, resources });
    }
  }

  private send(sub: Subscription, plan: SotwPlan): void {
    const { bytes, nonce } = this.framed(responseKey(plan.typeUrl, plan.versionInfo, plan.resources), (nonce) =>
      encodeDiscoveryResponse({ ...plan, nonce, controlPlaneId: this.deps.controlPlaneId }, this.headroom),
    );
    sub.sentSotw(plan, nonce);
    this.deps.sink.send(bytes);
    this.emitResponse(plan.typeUrl, plan.versionInfo, nonce, plan.resources, bytes.length - this.headroom);
  }
}
