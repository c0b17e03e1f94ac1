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
  const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
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
      const changed = new Set(Array.from({ length: 1 + rand(2) }, () => NAMES[rand(6)]!));
      for (const name of changed) rand(3) === 0 ? versions.delete(name) : versions.set(name, `v${step}`);
      only.touched(changed);
      all.touched(new Set(NAMES));
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
