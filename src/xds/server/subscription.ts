import { contentHash } from '../../lib/hash.ts';
import type { EncodedResource } from '../snapshot/encoded.ts';
import { allowsWildcard, fullStateInSotW, type AdsTypeUrl } from '../type-urls.ts';
import { noInterest, type InterestListener } from './interest.ts';

/** The resources a snapshot offers, as far as a subscription cares. */
export interface ResourceLookup {
  /** etcd revision the resources were built from. */
  readonly revision: number;
  get(typeUrl: AdsTypeUrl, name: string): EncodedResource | undefined;
  wildcardNames(typeUrl: AdsTypeUrl): Iterable<string>;
}

export interface SotwPlan {
  readonly typeUrl: AdsTypeUrl;
  /** Content-derived version of everything this stream is subscribed to of this type. */
  readonly versionInfo: string;
  /** For LDS/CDS the whole subscribed state; for RDS/EDS what changed. */
  readonly resources: readonly EncodedResource[];
}

export interface DeltaPlan {
  readonly typeUrl: AdsTypeUrl;
  readonly resources: readonly EncodedResource[];
  readonly removed: readonly string[];
}

export type NonceCheck = 'current' | 'stale';

/**
 * State of one resource type on one ADS stream, shared by SotW and Delta (xds-notes §1.12): what is
 * subscribed, what the client holds (name → version; forgotten on unsubscribe so a resubscribe is
 * answered), the last nonce sent, and the last ACK/NACK. Pure: no I/O, no clock.
 */
export class Subscription {
  private names = new Set<string>();
  private wildcard = false;
  private hadNames = false;
  /** What the client holds, as far as we know: what we sent, or (Delta) what it said it has. */
  private held = new Map<string, string>();
  /** Delta: subscribed names already reported as not existing. */
  private reportedMissing = new Set<string>();
  private sentNonce: string | undefined;
  private answered = false;
  /**
   * Whether something may be unsent: set by a change to the subscription or to a resource it concerns,
   * cleared once planned. A plain ACK leaves it clear, so ACKs cost no planning.
   */
  dirty = true;
  /**
   * While dirty only because snapshots changed: the subscribed names they changed. Everything else was
   * in sync when the last plan was made, so a plan need look only at these. Undefined: plan from scratch.
   * Usually the snapshot's own set of changed names, shared and never written; copied before adding to it.
   */
  private changedSince: ReadonlySet<string> | undefined;
  private ownsChangedSince = false;
  /** Bumped whenever what is wanted changes; keys the `present` memo. */
  private generation = 0;
  /**
   * Shares `present` between the checks and the plan of one push. Cleared by each plan and holding the
   * snapshot weakly: a memo kept across pushes would keep old snapshots, and their old resources, alive.
   */
  private presentMemo: { snapshot: WeakRef<ResourceLookup>; generation: number; value: EncodedResource[] } | undefined;
  ackedVersion: string | undefined;
  lastNack: { readonly nonce: string; readonly versionInfo: string; readonly message: string } | undefined;

  constructor(
    readonly typeUrl: AdsTypeUrl,
    /** Told of every change to the subscribed names and the wildcard flag. */
    private readonly interest: InterestListener = noInterest,
  ) {}

  get nonce(): string | undefined {
    return this.sentNonce;
  }

  get isWildcard(): boolean {
    return this.wildcard;
  }

  subscribedNames(): ReadonlySet<string> {
    return this.names;
  }

  /** Name → version of what the client holds, for admin views. */
  heldResources(): ReadonlyMap<string, string> {
    return this.held;
  }

  /** A request whose nonce is not the last one sent answers an older response (xds-notes §1.5). */
  checkNonce(responseNonce: string): NonceCheck {
    return this.sentNonce === undefined || responseNonce === this.sentNonce ? 'current' : 'stale';
  }

  /**
   * True when a change to `name` concerns this subscription. What the client holds is always among
   * the subscribed names unless it is a wildcard subscription, so the InterestIndex need only know those.
   */
  concerns(name: string): boolean {
    return this.wildcard || this.names.has(name) || this.held.has(name);
  }

  ack(versionInfo: string): void {
    this.ackedVersion = versionInfo;
  }

  /** A NACK changes nothing we send: the rejected version is never re-sent, only a later change is. */
  nack(nonce: string, versionInfo: string, message: string): void {
    this.lastNack = { nonce, versionInfo, message };
  }

  /**
   * True when the only thing this subscription would get from `snapshot` is a removal. Such pushes go
   * after every other type's, so a route stops naming a cluster before the cluster goes (make-before-break).
   */
  onlyRemovalsPending(snapshot: ResourceLookup): boolean {
    if (this.changedSince && !this.wildcard) {
      let removal = false;
      for (const name of this.changedSince) {
        const r = snapshot.get(this.typeUrl, name);
        if (r ? this.held.get(name) !== r.version : false) return false;
        if (!r && this.held.has(name)) removal = true;
      }
      return removal;
    }
    const present = this.present(snapshot);
    return present.length < this.held.size && present.every((r) => this.held.get(r.name) === r.version);
  }

  // --- State of the world ---

  /**
   * Applies a SotW request's `resource_names`. An empty list means wildcard only for LDS/CDS and only
   * while the stream never named anything for this type (legacy wildcard, xds-notes §1.6).
   */
  setNames(resourceNames: readonly string[]): void {
    const wildcardBefore = this.wildcard;
    if (allowsWildcard(this.typeUrl) && resourceNames.length === 0 && !this.hadNames) {
      this.setWildcard(true);
    } else {
      this.setWildcard(allowsWildcard(this.typeUrl) && resourceNames.includes('*'));
      if (resourceNames.length > 0) this.hadNames = true;
    }
    // Every SotW ACK repeats the names; most repeat them unchanged.
    if (this.wildcard === wildcardBefore && sameNames(resourceNames, this.names)) return;
    const names = new Set(resourceNames.filter((n) => n !== '*'));
    if (this.wildcard === wildcardBefore && sameSet(names, this.names)) return;
    for (const n of this.names) if (!names.has(n)) this.interest.delete(n);
    for (const n of names) if (!this.names.has(n)) this.interest.add(n);
    this.names = names;
    this.changed();
    if (!this.wildcard) this.forgetUnsubscribed();
  }

  /**
   * What to send now, or undefined when the client already has everything it asked for. LDS/CDS carry
   * the full subscribed set whenever anything in it changed (omission deletes); RDS/EDS carry only
   * resources whose version differs from what this stream was sent. The first request of a type is
   * always answered for LDS/CDS, even with an empty set.
   */
  planSotw(snapshot: ResourceLookup): SotwPlan | undefined {
    const present = this.present(snapshot);
    this.presentMemo = undefined;
    let resources: readonly EncodedResource[];
    if (fullStateInSotW(this.typeUrl)) {
      if (this.answered && present.length === this.held.size && present.every((r) => this.held.get(r.name) === r.version)) return undefined;
      resources = present;
    } else {
      resources = present.filter((r) => this.held.get(r.name) !== r.version);
      if (resources.length === 0) return undefined;
    }
    return { typeUrl: this.typeUrl, versionInfo: sotwVersion(present), resources };
  }

  sentSotw(plan: SotwPlan, nonce: string): void {
    this.sentNonce = nonce;
    this.answered = true;
    if (fullStateInSotW(this.typeUrl)) this.held = new Map(plan.resources.map((r) => [r.name, r.version]));
    else for (const r of plan.resources) this.held.set(r.name, r.version);
  }

  // --- Delta ---

  /**
   * Applies a Delta request. `initialVersions` (first request of a reconnected stream) says what the
   * client already holds; names in `subscribe` are sent even if we think the client has them
   * (xds-notes §1.6). For LDS/CDS an empty first subscribe list is the legacy wildcard.
   */
  updateDelta(subscribe: readonly string[], unsubscribe: readonly string[], initialVersions?: ReadonlyMap<string, string>): void {
    const first = !this.hadNames && !this.wildcard && this.names.size === 0;
    if (initialVersions) for (const [name, version] of initialVersions) this.held.set(name, version);
    if (first && subscribe.length === 0 && allowsWildcard(this.typeUrl)) this.setWildcard(true);
    for (const name of subscribe) {
      if (name === '*') {
        if (allowsWildcard(this.typeUrl)) this.setWildcard(true);
        continue;
      }
      if (!this.names.has(name)) this.interest.add(name);
      this.names.add(name);
      this.reportedMissing.delete(name);
      if (!initialVersions?.has(name)) this.held.delete(name);
    }
    if (subscribe.length > 0) this.hadNames = true;
    for (const name of unsubscribe) {
      if (name === '*') this.setWildcard(false);
      else if (this.names.delete(name)) this.interest.delete(name);
    }
    const changed = subscribe.length > 0 || unsubscribe.length > 0 || initialVersions?.size || first;
    if (changed) this.changed();
    // A plain ACK changes nothing, so it has nothing to forget.
    if (changed && !this.wildcard) this.forgetUnsubscribed();
  }

  /** Changed or new resources, and names the client holds (or asked for) that do not exist. */
  planDelta(snapshot: ResourceLookup): DeltaPlan | undefined {
    const changed = this.changedSince;
    this.changedSince = undefined;
    if (changed?.size === 1 && !this.wildcard) {
      this.presentMemo = undefined;
      return this.planDeltaOne(snapshot, changed.values().next().value!);
    }
    const present =
      changed && !this.wildcard
        ? [...changed].sort().flatMap((name) => snapshot.get(this.typeUrl, name) ?? [])
        : this.present(snapshot);
    this.presentMemo = undefined;
    const presentNames = new Set(present.map((r) => r.name));
    const resources = present.filter((r) => this.held.get(r.name) !== r.version);
    const removed: string[] = [];
    const considered = changed && !this.wildcard ? changed : undefined;
    for (const name of considered ?? this.held.keys()) if (!presentNames.has(name) && this.held.has(name)) removed.push(name);
    for (const name of considered ?? this.names) {
      if (!presentNames.has(name) && !this.held.has(name) && !this.reportedMissing.has(name)) removed.push(name);
    }
    if (resources.length === 0 && removed.length === 0) return undefined;
    return { typeUrl: this.typeUrl, resources, removed: removed.sort() };
  }

  /** planDelta when a push changed one name, the usual case, without the general case's sets and sorts. */
  private planDeltaOne(snapshot: ResourceLookup, name: string): DeltaPlan | undefined {
    const r = snapshot.get(this.typeUrl, name);
    if (r) return this.held.get(name) === r.version ? undefined : { typeUrl: this.typeUrl, resources: [r], removed: [] };
    const report = this.held.has(name) || (this.names.has(name) && !this.reportedMissing.has(name));
    return report ? { typeUrl: this.typeUrl, resources: [], removed: [name] } : undefined;
  }

  sentDelta(plan: DeltaPlan, nonce: string): void {
    this.sentNonce = nonce;
    this.answered = true;
    for (const r of plan.resources) this.held.set(r.name, r.version);
    for (const name of plan.removed) {
      this.held.delete(name);
      if (this.names.has(name)) this.reportedMissing.add(name);
    }
  }

  /** Withdraws every interest, when the stream ends. */
  close(): void {
    for (const n of this.names) this.interest.delete(n);
    this.setWildcard(false);
  }

  private setWildcard(on: boolean): void {
    if (on !== this.wildcard) this.interest.wildcard(on);
    this.wildcard = on;
  }

  /** Snapshots changed these names of this type. */
  touched(names: ReadonlySet<string>): void {
    if (!this.dirty) {
      this.dirty = true;
      if (this.allSubscribed(names)) {
        this.changedSince = names;
        this.ownsChangedSince = false;
        return;
      }
      this.changedSince = new Set();
      this.ownsChangedSince = true;
    }
    if (!this.changedSince) return;
    if (!this.ownsChangedSince) {
      this.changedSince = new Set(this.changedSince);
      this.ownsChangedSince = true;
    }
    const own = this.changedSince as Set<string>;
    for (const name of names) if (this.names.has(name)) own.add(name);
  }

  private allSubscribed(names: ReadonlySet<string>): boolean {
    for (const name of names) if (!this.names.has(name)) return false;
    return true;
  }

  private changed(): void {
    this.generation++;
    this.dirty = true;
    this.changedSince = undefined;
  }

  /** What the client wants that exists, by name; memoized per snapshot and subscription state. */
  private present(snapshot: ResourceLookup): EncodedResource[] {
    const m = this.presentMemo;
    if (m && m.snapshot.deref() === snapshot && m.generation === this.generation) return m.value;
    const value = this.computePresent(snapshot);
    this.presentMemo = { snapshot: new WeakRef(snapshot), generation: this.generation, value };
    return value;
  }

  private computePresent(snapshot: ResourceLookup): EncodedResource[] {
    const wanted = new Set(this.names);
    if (this.wildcard) for (const n of snapshot.wildcardNames(this.typeUrl)) wanted.add(n);
    const present: EncodedResource[] = [];
    for (const name of [...wanted].sort()) {
      const r = snapshot.get(this.typeUrl, name);
      if (r) present.push(r);
    }
    return present;
  }

  private forgetUnsubscribed(): void {
    for (const name of this.held.keys()) if (!this.names.has(name)) this.held.delete(name);
    for (const name of this.reportedMissing) if (!this.names.has(name)) this.reportedMissing.delete(name);
  }
}

const versions = new Map<string, string>();
/** Sets larger than this are hashed every time: their key would be as long as the hash's input. */
const MAX_REMEMBERED_SET = 64;

/**
 * The SotW `version_info` of a subscribed set: a hash of its names and versions. Streams subscribed to the
 * same set share it, so it is remembered by content instead of hashed again for each of them on every push.
 */
function sotwVersion(present: readonly EncodedResource[]): string {
  const parts = present.map((r) => `${r.name}=${r.version}`);
  if (present.length > MAX_REMEMBERED_SET) return contentHash(...parts);
  const key = parts.join('\0');
  let version = versions.get(key);
  if (version === undefined) {
    if (versions.size >= 10_000) versions.clear();
    versions.set(key, (version = contentHash(...parts)));
  }
  return version;
}

/** True when `list` names exactly the members of `set`, each once ("*" never matches); long lists are left to sameSet. */
function sameNames(list: readonly string[], set: ReadonlySet<string>): boolean {
  if (list.length !== set.size || list.length > 16) return false;
  for (let i = 0; i < list.length; i++) {
    if (!set.has(list[i]!)) return false;
    for (let j = 0; j < i; j++) if (list[j] === list[i]) return false;
  }
  return true;
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}
