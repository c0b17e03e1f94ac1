import { isValidServiceName } from '../../catalog/service-name.ts';
import { OUTBOUND } from '../resources/envoy.ts';
import { TypeUrl, type AdsTypeUrl } from '../type-urls.ts';
import { deferredGroup, type DeferredResources } from './deferred.ts';
import type { EncodedResource } from './encoded.ts';
import { encodeService } from './service.ts';

export type ResourceTable = ReadonlyMap<AdsTypeUrl, ReadonlyMap<string, EncodedResource>>;

/** An immutable, encoded set of resources built from one catalog revision. */
export class Snapshot {
  constructor(
    /** etcd revision of the catalog it was built from. */
    readonly revision: number,
    private readonly table: ResourceTable,
    /** Resources not encoded into `table` yet (cold start), by service name or resource name. */
    private readonly deferred: ReadonlyMap<string, DeferredResources> = new Map(),
  ) {}

  /**
   * The resource of that type and name. A valid service name that is not registered resolves to the
   * chain of a service with no instances, so clients that dial it early wait for instances instead of
   * hitting the 15 s does-not-exist timer (xds-notes §1.9).
   */
  get(typeUrl: AdsTypeUrl, name: string): EncodedResource | undefined {
    return this.table.get(typeUrl)?.get(name) ?? this.deferredResource(typeUrl, name) ?? unregisteredService(typeUrl, name);
  }

  private deferredResource(typeUrl: AdsTypeUrl, name: string): EncodedResource | undefined {
    if (this.deferred.size === 0) return undefined;
    return deferredGroup(this.deferred, name)?.get(typeUrl, name);
  }

  /**
   * Names a wildcard subscription (Envoy) selects: every registered cluster for CDS, and for LDS only
   * the sidecar's outbound TCP listener, since Envoy rejects API listeners over LDS (xds-notes §2.8).
   */
  *wildcardNames(typeUrl: AdsTypeUrl): Iterable<string> {
    if (typeUrl === TypeUrl.Cluster) for (const r of this.resources(typeUrl)) yield r.name;
    else if (typeUrl === TypeUrl.Listener && this.table.get(typeUrl)?.has(OUTBOUND)) yield OUTBOUND;
  }

  /** Registered resources of a type (no fallbacks), for dumps and tests. */
  *resources(typeUrl: AdsTypeUrl): Iterable<EncodedResource> {
    yield* this.table.get(typeUrl)?.values() ?? [];
    for (const group of this.deferred.values()) for (const r of group.resources()) if (r.typeUrl === typeUrl) yield r;
  }
}

const FALLBACK_CACHE_LIMIT = 10_000;
const fallbackCache = new Map<string, ReadonlyMap<AdsTypeUrl, EncodedResource>>();

function unregisteredService(typeUrl: AdsTypeUrl, name: string): EncodedResource | undefined {
  let chain = fallbackCache.get(name);
  if (!chain) {
    if (!isValidServiceName(name)) return undefined;
    if (fallbackCache.size >= FALLBACK_CACHE_LIMIT) fallbackCache.clear();
    chain = new Map(encodeService(name, []).map((r) => [r.typeUrl, r]));
    fallbackCache.set(name, chain);
  }
  return chain.get(typeUrl);
}
