import { expect, test } from 'bun:test';
import type { EncodedResource } from '../snapshot/encoded.ts';
import { TypeUrl } from '../type-urls.ts';
import { Subscription, type ResourceLookup } from './subscription.ts';

const NAMES = ['a', 'b', 'c', 'd', 'e', 'f'];

function lookup(versions: ReadonlyMap<string, string>): ResourceLookup {
  const empty = new Uint8Array();
  return {
    revision: 1,
    get: (typeUrl, name) => {
      const version = versions.get(name);
      return version === undefined ? undefined : ({ typeUrl, name, version, bytes: empty, any: empty, deltaResource: empty } satisfies EncodedResource);
    },
    wildcardNames: () => versions.keys(),
  };
}

test('a Delta plan made from the changed names alone equals one made from every subscribed name', () => {
  let seed = 5;
  // The high bits: an LCG's low bits repeat with short periods.
  const rand = (n: number) => Math.floor(((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * n);
  const only = new Subscription(TypeUrl.ClusterLoadAssignment);
  const all = new Subscription(TypeUrl.ClusterLoadAssignment);
  const versions = new Map<string, string>();
  let planned = 0;
  for (let step = 0; step < 500; step++) {
    if (rand(4) === 0) {
      const sub = [NAMES[rand(6)]!, NAMES[rand(6)]!];
      const unsub = rand(3) === 0 ? [NAMES[rand(6)]!] : [];
      only.updateDelta(sub, unsub);
      all.updateDelta(sub, unsub);
    } else {
      // One or two builds before the plan; the sets are the snapshot's own, which a subscription must not write.
      const builds = Array.from({ length: 1 + rand(2) }, () => new Set(Array.from({ length: 1 + rand(2) }, () => NAMES[rand(6)]!)));
      const before = builds.map((changed) => [...changed]);
      for (const changed of builds) {
        for (const name of changed) rand(3) === 0 ? versions.delete(name) : versions.set(name, `v${step}`);
        only.touched(changed);
        all.touched(new Set(NAMES));
      }
      expect(builds.map((changed) => [...changed])).toEqual(before);
    }
    const snapshot = lookup(versions);
    expect(only.onlyRemovalsPending(snapshot)).toBe(all.onlyRemovalsPending(snapshot));
    const a = only.planDelta(snapshot);
    const b = all.planDelta(snapshot);
    expect(a).toEqual(b);
    if (a) {
      planned++;
      only.sentDelta(a, String(step));
      all.sentDelta(b!, String(step));
    }
    only.dirty = all.dirty = false;
  }
  expect(planned).toBeGreaterThan(100);
});

test('a subscription keeps neither the snapshot it planned from nor its resources once the plan is made', async () => {
  const sotw = new Subscription(TypeUrl.ClusterLoadAssignment);
  sotw.setNames(['a', 'b']);
  const delta = new Subscription(TypeUrl.ClusterLoadAssignment);
  delta.updateDelta(['a', 'b'], []);
  // Made in another frame so no stack slot of this one points at them (JSC scans the stack conservatively).
  const refs = (() => {
    const snapshot = lookup(new Map([['a', '1'], ['b', '1']]));
    const sotwPlan = sotw.planSotw(snapshot)!;
    const deltaPlan = delta.planDelta(snapshot)!;
    expect([sotwPlan.resources.length, deltaPlan.resources.length]).toEqual([2, 2]);
    return [new WeakRef(snapshot), new WeakRef(sotwPlan.resources[0]!), new WeakRef(deltaPlan.resources[0]!)];
  })();
  for (let i = 0; i < 5 && refs.some((r) => r.deref() !== undefined); i++) {
    await Bun.sleep(1);
    Bun.gc(true);
  }
  expect(refs.map((r) => r.deref())).toEqual([undefined, undefined, undefined]);
});

test('a SotW request repeating its names changes nothing; a repeated name or a "*" is not taken for the same set', () => {
  const sub = new Subscription(TypeUrl.ClusterLoadAssignment);
  sub.setNames(['a', 'b']);
  const snapshot = lookup(new Map([['a', '1'], ['b', '1']]));
  sub.sentSotw(sub.planSotw(snapshot)!, '1');
  sub.dirty = false;
  sub.setNames(['b', 'a']);
  expect(sub.dirty).toBe(false);
  sub.setNames(['a', 'a']);
  expect(sub.dirty).toBe(true);
  expect(sub.planSotw(snapshot)).toBeUndefined(); // only a is wanted now, and the client holds it
  expect(sub.concerns('b')).toBe(false);
  sub.setNames(['a', 'b']);
  sub.dirty = false;
  sub.setNames(['a', '*']);
  expect(sub.concerns('b')).toBe(false);
});
