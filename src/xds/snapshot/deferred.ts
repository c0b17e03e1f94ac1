import type { AdsTypeUrl } from '../type-urls.ts';
import type { EncodedResource } from './encoded.ts';

/**
 * Resources encoded on first use and then kept: a service's, or the sidecar route that lists every
 * service. A cold start with 10,000 services serves as soon as the catalog is built; the store encodes
 * the rest in the background, and a client asking first gets its resources encoded on the spot.
 * Encoding is deterministic, so the bytes are the same whenever it happens.
 */
export class DeferredResources {
  private encoded: ReadonlyMap<string, EncodedResource> | undefined;

  constructor(
    /** The service's name, or the resource name when it belongs to no service. */
    readonly key: string,
    /** Encodes the resources; on failure it reports the error itself and returns nothing. */
    private readonly encode: () => readonly EncodedResource[],
  ) {}

  get isEncoded(): boolean {
    return this.encoded !== undefined;
  }

  resources(): Iterable<EncodedResource> {
    return this.table().values();
  }

  get(typeUrl: AdsTypeUrl, name: string): EncodedResource | undefined {
    return this.table().get(`${typeUrl} ${name}`);
  }

  private table(): ReadonlyMap<string, EncodedResource> {
    this.encoded ??= new Map(this.encode().map((r) => [`${r.typeUrl} ${r.name}`, r]));
    return this.encoded;
  }
}

/** The deferred group a resource is in: its own name, else its service's (`<service>/<subset>`). */
export function deferredGroup(groups: ReadonlyMap<string, DeferredResources>, name: string): DeferredResources | undefined {
  const slash = name.indexOf('/');
  return groups.get(name) ?? (slash < 0 ? undefined : groups.get(name.slice(0, slash)));
}
