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
