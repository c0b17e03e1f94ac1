import { expect, test } from 'bun:test';
import { TypeUrl } from '../type-urls.ts';
import { InterestIndex } from './interest.ts';
import { Subscription } from './subscription.ts';

const names = ['a', 'b', 'c', 'd', 'e'];
const lookup = {
  revision: 1,
  get: (typeUrl: string, name: string) =>
    names.includes(name) ? { typeUrl, name, version: `v-${name}`, bytes: new Uint8Array(), any: new Uint8Array(), deltaResource: new Uint8Array() } : undefined,
  wildcardNames: () => names,
} as never;

test('the index names a stream for a change exactly when its subscription is concerned, through any sequence of requests', () => {
  let seed = 11;
  const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
  const pick = () => Array.from({ length: rand(3) }, () => (rand(6) === 0 ? '*' : names[rand(names.length)]!));
  for (const typeUrl of [TypeUrl.Cluster, TypeUrl.ClusterLoadAssignment]) {
    for (const protocol of ['sotw', 'delta'] as const) {
      const index = new InterestIndex<string>();
      const subs = ['s1', 's2', 's3'].map((id) => ({ id, sub: new Subscription(typeUrl, index.listener(typeUrl, id)), first: true }));
      for (let step = 0; step < 300; step++) {
        const entry = subs[rand(subs.length)]!;
        const { sub } = entry;
        // a reconnecting Delta client may say it holds names it does not subscribe to
        const initial = entry.first ? new Map(pick().map((n) => [n, 'old'] as const)) : undefined;
        entry.first = false;
        if (protocol === 'sotw') {
          sub.setNames(pick());
          const plan = sub.planSotw(lookup);
          if (plan) sub.sentSotw(plan, String(step));
        } else {
          sub.updateDelta(pick(), pick(), initial);
          const plan = sub.planDelta(lookup);
          if (plan) sub.sentDelta(plan, String(step));
        }
        for (const name of names) {
          const affected = index.affected(new Map([[typeUrl, new Set([name])]]));
          for (const { id, sub: s } of subs) expect([protocol, step, name, id, affected.has(id)]).toEqual([protocol, step, name, id, s.concerns(name)]);
          for (const part of affected.values()) expect([...part.get(typeUrl)!]).toEqual([name]);
        }
        // A change of several names hands each stream the ones that concern it (wildcard streams: all of them).
        const all = index.affected(new Map([[typeUrl, new Set(names)]]));
        for (const { id, sub: s } of subs) {
          const mine = [...(all.get(id)?.get(typeUrl) ?? [])].sort();
          expect([protocol, step, id, mine]).toEqual([protocol, step, id, names.filter((n) => s.concerns(n))]);
        }
      }
      for (const { sub } of subs) sub.close();
      expect(index.affected(new Map([[typeUrl, new Set(names)]])).size).toBe(0);
    }
  }
});
