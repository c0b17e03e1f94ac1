import { expect, test } from 'bun:test';
import { PersistentMap } from './persistent-map.ts';

test('with and without return new maps and leave the old one as it was', () => {
  const a = PersistentMap.from(Array.from({ length: 1000 }, (_, i) => [`k${i}`, i] as const));
  const b = a.with('k5', 50).with('new', -1).without('k7');
  expect([a.get('k5'), a.has('new'), a.get('k7'), a.size]).toEqual([5, false, 7, 1000]);
  expect([b.get('k5'), b.get('new'), b.has('k7'), b.size]).toEqual([50, -1, false, 1000]);
  expect(new Map(b)).toEqual(new Map([...a].filter(([k]) => k !== 'k7').map(([k, v]) => [k, k === 'k5' ? 50 : v] as const).concat([['new', -1]])));
  expect(b.without('absent')).toBe(b);
  expect(b.with('k5', 50)).toBe(b);
  expect([...PersistentMap.empty<number>().with('x', 1).without('x').keys()]).toEqual([]);
});

test('withChanges applies a batch like the same with/without calls one by one, leaving the old map as it was', () => {
  let seed = 7;
  const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
  let model = new Map<string, number>();
  let map = PersistentMap.empty<number>();
  for (let round = 0; round < 50; round++) {
    const changes: [string, number | undefined][] = Array.from({ length: 40 }, () => [`k${rand(300)}`, rand(3) === 0 ? undefined : rand(5)]);
    const before = [...map].sort();
    const next = map.withChanges(changes);
    expect([...map].sort()).toEqual(before);
    for (const [k, v] of changes) v === undefined ? model.delete(k) : model.set(k, v);
    expect(next.size).toBe(model.size);
    expect(new Map(next)).toEqual(model);
    map = next;
  }
  expect(map.withChanges([['absent', undefined]])).toBe(map);
  const [k, v] = [...map][0]!;
  expect(map.withChanges([[k, v]])).toBe(map);
});
