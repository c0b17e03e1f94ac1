import { describe, expect, test } from 'bun:test';
import { makeInstance } from '../../test/fixtures/catalog.ts';
import { applyEvents, replaceScope } from './apply.ts';
import { emptyCatalog, type CatalogEvent } from './model.ts';
import { parseRoutePolicyValue } from './route-policy.ts';

const upsert = (service: string, port: number, revision = 1, weight = 1): CatalogEvent => ({
  type: 'upsert',
  instance: makeInstance(service, port, { revision, weight }),
});
const key = (service: string, port: number) => makeInstance(service, port).key;

describe('applyEvents', () => {
  test('adds instances sorted by key and reports the services that changed', () => {
    const { catalog, changed } = applyEvents(emptyCatalog, [upsert('a', 2), upsert('a', 1), upsert('b', 1, 5)]);
    expect(catalog.services.get('a')?.instances.map((i) => i.port)).toEqual([1, 2]);
    expect([...changed].sort()).toEqual(['a', 'b']);
    expect(catalog.revision).toBe(5);
  });

  test('does not modify its input', () => {
    const first = applyEvents(emptyCatalog, [upsert('a', 1)]).catalog;
    applyEvents(first, [upsert('a', 2), { type: 'remove', key: key('a', 1), revision: 3 }]);
    expect(first.services.get('a')?.instances).toHaveLength(1);
  });

  test('removing the last instance removes the service', () => {
    const first = applyEvents(emptyCatalog, [upsert('a', 1)]).catalog;
    const { catalog, changed } = applyEvents(first, [{ type: 'remove', key: key('a', 1), revision: 2 }]);
    expect(catalog.services.has('a')).toBe(false);
    expect([...changed]).toEqual(['a']);
  });

  test('an identical re-put changes nothing that reaches xDS', () => {
    const first = applyEvents(emptyCatalog, [upsert('a', 1, 1)]).catalog;
    expect([...applyEvents(first, [upsert('a', 1, 9)]).changed]).toEqual([]);
    expect([...applyEvents(first, [upsert('a', 1, 9, 4)]).changed]).toEqual(['a']);
  });

  test('a rejected write keeps the last valid instance and is listed with its reason', () => {
    const first = applyEvents(emptyCatalog, [upsert('a', 1)]).catalog;
    const rejection = { key: key('a', 1), reason: 'weight: bad', revision: 2 };
    const { catalog, changed } = applyEvents(first, [{ type: 'reject', rejection }]);
    expect(catalog.services.get('a')?.instances).toHaveLength(1);
    expect(catalog.rejected.get(key('a', 1))).toEqual(rejection);
    expect(changed.size).toBe(0);
    const fixed = applyEvents(catalog, [upsert('a', 1, 3, 2)]).catalog;
    expect(fixed.rejected.size).toBe(0);
  });
});

describe('replaceScope', () => {
  const all = () => true;
  test('reports exactly the services that differ from the previous catalog', () => {
    const before = applyEvents(emptyCatalog, [upsert('a', 1), upsert('b', 1), upsert('c', 1)]).catalog;
    const { catalog, changed } = replaceScope(before, [upsert('a', 1, 7), upsert('b', 2, 7), upsert('d', 1, 7)], 10, all);
    expect([...changed].sort()).toEqual(['b', 'c', 'd']);
    expect(catalog.revision).toBe(10);
    expect([...catalog.services.keys()].sort()).toEqual(['a', 'b', 'd']);
  });

  test('a key that is now rejected keeps its previous instance', () => {
    const before = applyEvents(emptyCatalog, [upsert('a', 1)]).catalog;
    const rejection = { key: key('a', 1), reason: 'bad', revision: 4 };
    const { catalog, changed } = replaceScope(before, [{ type: 'reject', rejection }], 4, all);
    expect(catalog.services.get('a')?.instances.map((i) => i.port)).toEqual([1]);
    expect(catalog.rejected.get(key('a', 1))).toEqual(rejection);
    expect(changed.size).toBe(0);
  });

  test('keys outside the scope are left alone', () => {
    const other = { type: 'upsert' as const, instance: makeInstance('x', 9, { key: '/other/x/127.0.0.1:9' }) };
    const before = applyEvents(emptyCatalog, [upsert('a', 1), other]).catalog;
    const { catalog, changed } = replaceScope(before, [], 5, (k) => k.startsWith('/services/'));
    expect([...catalog.services.keys()]).toEqual(['x']);
    expect([...changed]).toEqual(['a']);
  });

  test('a first list of a scope gives what applying its events one by one gives, next to other scopes', () => {
    let seed = 3;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
    const inScope = (k: string) => k.startsWith('/services/');
    for (let round = 0; round < 30; round++) {
      // another prefix already holds instances of some of the same services
      const others = Array.from({ length: rand(6) }, () => ({
        type: 'upsert' as const,
        instance: makeInstance(`s${rand(4)}`, 100 + rand(5), { key: `/other/s/10.0.0.${rand(9)}:${100 + rand(5)}` }),
      }));
      const previous = applyEvents(emptyCatalog, others).catalog;
      const events: CatalogEvent[] = Array.from({ length: rand(12) }, () =>
        rand(5) === 0
          ? { type: 'reject', rejection: { key: key(`s${rand(4)}`, rand(6)), reason: 'bad', revision: 1 + rand(50) } }
          : upsert(`s${rand(4)}`, rand(6), 1 + rand(50)),
      );
      const fast = replaceScope(previous, events, 20, inScope);
      const general = applyEvents(previous, events);
      expect(fast.catalog.revision).toBe(Math.max(general.catalog.revision, 20));
      expect(new Map(fast.catalog.services)).toEqual(new Map(general.catalog.services));
      expect(fast.catalog.rejected).toEqual(general.catalog.rejected);
      expect([...fast.changed].sort()).toEqual([...general.changed].sort());
    }
  });
});

describe('route policies', () => {
  const parsed = parseRoutePolicyValue(JSON.stringify({ subsets: { v2: { version: 'v2' } }, routes: [{ split: { '*': 90, v2: 10 } }] }));
  if (!parsed.ok) throw new Error(parsed.errors.join());
  const policy = parsed.value;
  const put = (p = policy, revision = 5): CatalogEvent => ({ type: 'policy', key: '/switchyard/routes/a', service: 'a', policy: p, revision });

  test('a policy marks its service changed once; an identical re-put changes nothing; a delete returns to the default', () => {
    const first = applyEvents(emptyCatalog, [put()]);
    expect(first.catalog.policies.get('a')).toEqual({ key: '/switchyard/routes/a', policy });
    expect([...first.changed]).toEqual(['a']);
    expect(applyEvents(first.catalog, [put(structuredClone(policy), 6)]).changed.size).toBe(0);
    const deleted = applyEvents(first.catalog, [{ type: 'policy', key: '/switchyard/routes/a', service: 'a', policy: undefined, revision: 7 }]);
    expect(deleted.catalog.policies.size).toBe(0);
    expect([...deleted.changed]).toEqual(['a']);
  });

  test('a rejected policy leaves the last valid one in force and is listed', () => {
    const first = applyEvents(emptyCatalog, [put()]).catalog;
    const rejection = { key: '/switchyard/routes/a', reason: 'routes[0].split: weights sum to 95, expected 100', revision: 8 };
    const { catalog, changed } = applyEvents(first, [{ type: 'reject', rejection }]);
    expect(catalog.policies.get('a')?.policy).toBe(policy);
    expect(catalog.rejected.get(rejection.key)).toEqual(rejection);
    expect(changed.size).toBe(0);
  });

  test('a list without the policy key removes the policy', () => {
    const first = applyEvents(emptyCatalog, [put()]).catalog;
    const { catalog, changed } = replaceScope(first, [], 9, (k) => k.startsWith('/switchyard/routes/'));
    expect(catalog.policies.size).toBe(0);
    expect([...changed]).toEqual(['a']);
  });
});
