import { contentHash } from '../../lib/hash.ts';
import { encodeDeltaDiscoveryResponse, type DeltaDiscoveryRequest } from './codec.ts';
import { AdsSession } from './session.ts';
import type { Subscription } from './subscription.ts';

/** An incremental ADS stream (`DeltaAggregatedResources`): per-resource versions and removals. */
export class DeltaSession extends AdsSession<DeltaDiscoveryRequest> {
  readonly protocol = 'delta';

  protected updateSubscription(sub: Subscription, req: DeltaDiscoveryRequest, firstForType: boolean): void {
    // initial_resource_versions is only meaningful on the first request of a type (xds-notes §1.3).
    sub.updateDelta(req.subscribe, req.unsubscribe, firstForType ? req.initialResourceVersions : undefined);
  }

  protected versionOf(): string {
    return '';
  }

  protected names(req: DeltaDiscoveryRequest): readonly string[] {
    return req.subscribe;
  }

  protected respond(sub: Subscription): void {
    const plan = sub.planDelta(this.deps.snapshot());
    if (!plan) return;
    const nonce = this.nextNonce();
    const systemVersionInfo = contentHash(...plan.resources.map((r) => `${r.name}=${r.version}`), ...plan.removed);
    const bytes = encodeDeltaDiscoveryResponse({ ...plan, systemVersionInfo, nonce, controlPlaneId: this.deps.controlPlaneId });
    sub.sentDelta(plan, nonce);
    this.deps.sink.send(bytes);
    this.emitResponse(plan.typeUrl, systemVersionInfo, nonce, plan.resources.map((r) => r.name), bytes.length);
  }
}
