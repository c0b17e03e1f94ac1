import { contentHash } from '../../lib/hash.ts';
import type { EncodedResource } from '../snapshot/encoded.ts';
import { allowsWildcard, fullStateInSotW, type AdsTypeUrl } from '../type-urls.ts';

/** The resources a snapshot offers, as far as a subscription cares. */
export interface ResourceLookup {
  get(typeUrl: AdsTypeUrl, name: string): EncodedResource | undefined;
  wildcardNames(typeUrl: AdsTypeUrl): Iterable<string>;
}

export interface PlannedResponse {
  readonly typeUrl: AdsTypeUrl;
  /** Content-derived version of everything this stream is subscribed to of this type. */
  readonly versionInfo: string;
  readonly resources: readonly EncodedResource[];
  /** Full subscribed state after sending, name → version. */
  readonly state: ReadonlyMap<string, string>;
}

export type NonceCheck = 'current' | 'stale';

/**
 * State of one resource type on one SotW stream (xds-notes §1.12): what is subscribed, what was
 * sent (name → version, forgotten on unsubscribe so a resubscribe is answered), the last nonce sent,
 * and the last ACK/NACK. Pure: no I/O, no clock.
 */
export class Subscription {
  private names = new Set<string>();
  private wildcard = false;
  private hadNames = false;
  private delivered = new Map<string, string>();
  private sentNonce: string | undefined;
  private answered = false;
  ackedVersion: string | undefined;
  lastNack: { readonly nonce: string; readonly versionInfo: string; readonly message: string } | undefined;

  constructor(readonly typeUrl: AdsTypeUrl) {}

  get nonce(): string | undefined {
    return this.sentNonce;
  }

  get isWildcard(): boolean {
    return this.wildcard;
  }

  subscribedNames(): ReadonlySet<string> {
    return this.names;
  }

  /** A request whose nonce is not the last one sent answers an older response (xds-notes §1.5). */
  checkNonce(responseNonce: string): NonceCheck {
    return this.sentNonce === undefined || responseNonce === this.sentNonce ? 'current' : 'stale';
  }

  /**
   * Applies a request's `resource_names`. An empty list means wildcard only for LDS/CDS and only while
   * the stream never named anything for this type (legacy wildcard, xds-notes §1.6).
   */
  setNames(resourceNames: readonly string[]): void {
    if (allowsWildcard(this.typeUrl) && resourceNames.length === 0 && !this.hadNames) {
      this.wildcard = true;
    } else {
      this.wildcard = allowsWildcard(this.typeUrl) && resourceNames.includes('*');
      if (resourceNames.length > 0) this.hadNames = true;
    }
    this.names = new Set(resourceNames.filter((n) => n !== '*'));
    if (!this.wildcard) {
      for (const name of this.delivered.keys()) if (!this.names.has(name)) this.delivered.delete(name);
    }
  }

  /** True when a change to `name` concerns this subscription. */
  concerns(name: string): boolean {
    return this.wildcard || this.names.has(name);
  }

  /**
   * What to send now, or undefined when the client already has everything it asked for. LDS/CDS carry
   * the full subscribed set whenever anything in it changed (omission deletes); RDS/EDS carry only
   * resources whose version differs from what this stream was sent. The first request of a type is
   * always answered for LDS/CDS, even with an empty set.
   */
  plan(snapshot: ResourceLookup): PlannedResponse | undefined {
    const wanted = new Set(this.names);
    if (this.wildcard) for (const n of snapshot.wildcardNames(this.typeUrl)) wanted.add(n);
    const present: EncodedResource[] = [];
    for (const name of [...wanted].sort()) {
      const r = snapshot.get(this.typeUrl, name);
      if (r) present.push(r);
    }
    const state = new Map(present.map((r) => [r.name, r.version]));
    const fullState = fullStateInSotW(this.typeUrl);
    let resources: readonly EncodedResource[];
    if (fullState) {
      if (this.answered && sameState(state, this.delivered)) return undefined;
      resources = present;
    } else {
      resources = present.filter((r) => this.delivered.get(r.name) !== r.version);
      if (resources.length === 0) return undefined;
    }
    const versionInfo = contentHash(...present.map((r) => `${r.name}=${r.version}`));
    return { typeUrl: this.typeUrl, versionInfo, resources, state };
  }

  /** Records that `plan` went out with `nonce`. */
  sent(plan: PlannedResponse, nonce: string): void {
    this.sentNonce = nonce;
    this.answered = true;
    if (fullStateInSotW(this.typeUrl)) this.delivered = new Map(plan.state);
    else for (const r of plan.resources) this.delivered.set(r.name, r.version);
  }

  ack(versionInfo: string): void {
    this.ackedVersion = versionInfo;
  }

  /** A NACK changes nothing we send: the rejected version is never re-sent, only a later change is. */
  nack(nonce: string, versionInfo: string, message: string): void {
    this.lastNack = { nonce, versionInfo, message };
  }
}

function sameState(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}
