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

  /** The streams subscribed to a changed name, or by wildcard to a type that changed. */
  affected(changes: ResourceChanges): Set<S> {
    const out = new Set<S>();
    for (const [typeUrl, names] of changes) {
      for (const s of this.wildcards.get(typeUrl) ?? []) out.add(s);
      const byName = this.named.get(typeUrl);
      if (!byName) continue;
      for (const name of names) for (const s of byName.get(name) ?? []) out.add(s);
    }
    return out;
  }
}

function getOrSet<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let v = map.get(key);
  if (v === undefined) map.set(key, (v = make()));
  return v;
}
