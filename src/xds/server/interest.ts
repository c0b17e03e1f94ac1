import type { ResourceChanges } from '../snapshot/store.ts';
import type { AdsTypeUrl } from '../type-urls.ts';

/** What a subscription reports as its subscribed names and wildcard flag change. */
export interface InterestListener {
  add(name: string): void;
  delete(name: string): void;
  wildcard(on: boolean): void;
}

export const noInterest: InterestListener = { add() {}, delete() {}, wildcard() {} };

/**
 * Which streams subscribe to which resource names, per type, so a snapshot change reaches only the
 * streams it concerns instead of every stream checking every change (1,000 streams × 200 builds/s).
 * Subscriptions keep it current through their InterestListener.
 */
export class InterestIndex<S> {
  private readonly named = new Map<AdsTypeUrl, Map<string, Set<S>>>();
  private readonly wildcards = new Map<AdsTypeUrl, Set<S>>();

  listener(typeUrl: AdsTypeUrl, stream: S): InterestListener {
    const byName = getOrSet(this.named, typeUrl, () => new Map<string, Set<S>>());
    const wildcards = getOrSet(this.wildcards, typeUrl, () => new Set<S>());
    return {
      add: (name) => getOrSet(byName, name, () => new Set<S>()).add(stream),
      delete: (name) => {
        const streams = byName.get(name);
        if (streams?.delete(stream) && streams.size === 0) byName.delete(name);
      },
      wildcard: (on) => void (on ? wildcards.add(stream) : wildcards.delete(stream)),
    };
  }

  /**
   * The streams a change concerns, each with only its part of the change: the changed names it subscribes
   * to, or all of a type it subscribes to by wildcard. So a stream's work is its own share of a build that
   * coalesced many services, not the whole build.
   */
  affected(changes: ResourceChanges): Map<S, ResourceChanges> {
    const out = new Map<S, ResourceChanges>();
    if (changes.size === 1) {
      const [typeUrl, names] = changes.entries().next().value!;
      if (names.size === 1) {
        // One name of one type, the usual push: the whole change is every affected stream's part.
        for (const s of this.wildcards.get(typeUrl) ?? []) out.set(s, changes);
        for (const s of this.named.get(typeUrl)?.get(names.values().next().value!) ?? []) out.set(s, changes);
        return out;
      }
    }
    const partOf = (s: S) => getOrSet(out, s, () => new Map<AdsTypeUrl, ReadonlySet<string>>()) as Map<AdsTypeUrl, ReadonlySet<string>>;
    for (const [typeUrl, names] of changes) {
      const wildcards = this.wildcards.get(typeUrl);
      for (const s of wildcards ?? []) partOf(s).set(typeUrl, names);
      const byName = this.named.get(typeUrl);
      if (!byName) continue;
      for (const name of names) {
        for (const s of byName.get(name) ?? []) {
          if (wildcards?.has(s)) continue;
          // Not a wildcard stream of this type, so its entry for the type is a set made here, never `names`.
          (getOrSet(partOf(s), typeUrl, () => new Set<string>()) as Set<string>).add(name);
        }
      }
    }
    return out;
  }
}

function getOrSet<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let v = map.get(key);
  if (v === undefined) map.set(key, (v = make()));
  return v;
}
