/**
 * An immutable map whose `with`/`without` copy only one of its buckets, so updating one entry of a map
 * of 10,000 costs about sqrt of that instead of a full copy. It reads like a ReadonlyMap.
 */
const BUCKETS = 512;

function bucketOf(key: string): number {
  let h = 2166136261;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 16777619);
  return (h >>> 0) % BUCKETS;
}

export class PersistentMap<V> implements ReadonlyMap<string, V> {
  private constructor(
    private readonly buckets: readonly (ReadonlyMap<string, V> | undefined)[],
    readonly size: number,
  ) {}

  static empty<V>(): PersistentMap<V> {
    return new PersistentMap<V>(new Array(BUCKETS).fill(undefined), 0);
  }

  static from<V>(entries: Iterable<readonly [string, V]>): PersistentMap<V> {
    const buckets: Map<string, V>[] = [];
    let size = 0;
    for (const [k, v] of entries) {
      const b = (buckets[bucketOf(k)] ??= new Map());
      if (!b.has(k)) size++;
      b.set(k, v);
    }
    return new PersistentMap<V>(Array.from({ length: BUCKETS }, (_, i) => buckets[i]), size);
  }

  get(key: string): V | undefined {
    return this.buckets[bucketOf(key)]?.get(key);
  }

  has(key: string): boolean {
    return this.buckets[bucketOf(key)]?.has(key) ?? false;
  }

  /** A map with `key` set to `value`; this one is unchanged. */
  with(key: string, value: V): PersistentMap<V> {
    const i = bucketOf(key);
    const old = this.buckets[i];
    if (old?.get(key) === value && old.has(key)) return this;
    const next = new Map(old);
    next.set(key, value);
    return this.replace(i, next, this.size + (old?.has(key) ? 0 : 1));
  }

  /**
   * A map with every change applied (`undefined` removes the key); each touched bucket is copied once,
   * so a batch of k changes costs k plus the buckets it touches, not k bucket copies.
   */
  withChanges(changes: Iterable<readonly [string, V | undefined]>): PersistentMap<V> {
    let buckets: (ReadonlyMap<string, V> | undefined)[] | undefined;
    const copied = new Set<number>();
    let size = this.size;
    for (const [key, value] of changes) {
      const i = bucketOf(key);
      const current = (buckets ?? this.buckets)[i];
      const had = current?.has(key) ?? false;
      if (value === undefined ? !had : had && current!.get(key) === value) continue;
      buckets ??= this.buckets.slice();
      let bucket = current as Map<string, V> | undefined;
      if (!copied.has(i)) {
        bucket = new Map(current);
        buckets[i] = bucket;
        copied.add(i);
      }
      if (value === undefined) {
        bucket!.delete(key);
        size--;
        if (bucket!.size === 0) {
          buckets[i] = undefined;
          copied.delete(i);
        }
      } else {
        bucket!.set(key, value);
        if (!had) size++;
      }
    }
    return buckets ? new PersistentMap(buckets, size) : this;
  }

  /** A map without `key`; this one is unchanged. */
  without(key: string): PersistentMap<V> {
    const i = bucketOf(key);
    const old = this.buckets[i];
    if (!old?.has(key)) return this;
    const next = new Map(old);
    next.delete(key);
    return this.replace(i, next.size > 0 ? next : undefined, this.size - 1);
  }

  private replace(i: number, bucket: ReadonlyMap<string, V> | undefined, size: number): PersistentMap<V> {
    const buckets = this.buckets.slice();
    buckets[i] = bucket;
    return new PersistentMap(buckets, size);
  }

  *entries(): MapIterator<[string, V]> {
    for (const b of this.buckets) if (b) yield* b.entries();
  }

  *keys(): MapIterator<string> {
    for (const b of this.buckets) if (b) yield* b.keys();
  }

  *values(): MapIterator<V> {
    for (const b of this.buckets) if (b) yield* b.values();
  }

  [Symbol.iterator](): MapIterator<[string, V]> {
    return this.entries();
  }

  forEach(fn: (value: V, key: string, map: ReadonlyMap<string, V>) => void): void {
    for (const [k, v] of this.entries()) fn(v, k, this);
  }
}
