import { expect, test } from 'bun:test';
import { instanceDefaults } from '../catalog/model.ts';
import { silentLogger } from '../lib/logger.ts';
import { createCatalogFeed, createCatalogState } from './catalog-feed.ts';
import { registrations } from './formats/format.ts';
import { plainFormat } from './formats/plain.ts';
import type { RawEntry } from './source.ts';

const entry = (key: string, modRevision = 1, value = ''): RawEntry => ({ key, value, modRevision, lease: '0' });

test('nested prefixes: a key belongs to the longest prefix, and a list replaces only its own keys', () => {
  const updates: string[][] = [];
  const state = createCatalogState((u) => updates.push([...u.changed].sort()));
  const allPrefixes = ['/x/', '/x/nested/'];
  const outer = createCatalogFeed({ prefix: '/x/', reader: registrations(plainFormat), logger: silentLogger, state, allPrefixes });
  const inner = createCatalogFeed({ prefix: '/x/nested/', reader: registrations(plainFormat), logger: silentLogger, state, allPrefixes });

  // Each etcd watch on a prefix also sees the keys of longer prefixes under it.
  const keys = [entry('/x/a/127.0.0.1:1'), entry('/x/nested/b/127.0.0.1:2')];
  outer.sink.reset(keys, 3);
  inner.sink.reset(keys, 3);
  expect([...state.current().services.keys()].sort()).toEqual(['a', 'b']);
  expect(state.current().rejected.size).toBe(0);

  outer.sink.reset([], 4);
  expect([...state.current().services.keys()]).toEqual(['b']);
  outer.sink.apply([{ type: 'delete', key: '/x/nested/b/127.0.0.1:2', modRevision: 5 }]);
  expect([...state.current().services.keys()]).toEqual(['b']);
  inner.sink.apply([{ type: 'delete', key: '/x/nested/b/127.0.0.1:2', modRevision: 5 }]);
  expect(state.current().services.size).toBe(0);
  expect(updates.at(-1)).toEqual(['b']);
});

test('rejections are counted and listed; a placeholder key registers nothing', () => {
  const state = createCatalogState(() => {});
  const feed = createCatalogFeed({ prefix: '/s/', reader: registrations(plainFormat), logger: silentLogger, state });
  feed.sink.reset([entry('/s/a/127.0.0.1:1'), entry('/s/a/not-an-address')], 2);
  expect(feed.stats().rejectedTotal).toBe(1);
  expect([...state.current().rejected.keys()]).toEqual(['/s/a/not-an-address']);
  feed.sink.apply([{ type: 'put', entry: entry('/s/a/', 3) }]);
  expect(state.current().services.get('a')?.instances).toHaveLength(1);
});

test('a re-list decodes only the keys whose revision changed: the rest stay the very same instances, unlisted keys go', () => {
  const changes: string[][] = [];
  const state = createCatalogState((u) => changes.push([...u.changed].sort()));
  const feed = createCatalogFeed({ prefix: '/s/', reader: registrations(plainFormat), logger: silentLogger, state });
  feed.sink.reset([entry('/s/a/127.0.0.1:1', 1), entry('/s/a/127.0.0.1:2', 2), entry('/s/b/127.0.0.1:3', 3), entry('/s/a/bad', 4)], 4);
  const [kept] = state.current().services.get('a')!.instances;
  expect(feed.stats().rejectedTotal).toBe(1);

  // :1 as it was, :2 rewritten with a weight, b's key gone, c new, the bad key as it was
  feed.sink.reset([entry('/s/a/127.0.0.1:1', 1), entry('/s/a/127.0.0.1:2', 7, '{"weight":3}'), entry('/s/c/127.0.0.1:4', 8), entry('/s/a/bad', 4)], 8);
  expect(changes.at(-1)).toEqual(['a', 'b', 'c']);
  const a = state.current().services.get('a')!.instances;
  expect(a[0]).toBe(kept!);
  expect(a.map((i) => [i.port, i.weight])).toEqual([[1, 1], [2, 3]]);
  expect(state.current().services.has('b')).toBe(false);
  expect([...state.current().rejected.keys()]).toEqual(['/s/a/bad']);
  // the unchanged bad key was not decoded (and counted) again
  expect(feed.stats().rejectedTotal).toBe(1);

  // an identical re-list changes nothing
  feed.sink.reset([entry('/s/a/127.0.0.1:1', 1), entry('/s/a/127.0.0.1:2', 7, '{"weight":3}'), entry('/s/c/127.0.0.1:4', 8), entry('/s/a/bad', 4)], 9);
  expect(changes.at(-1)).toEqual([]);
});

test('events after a re-list find the keys it added and forget those it removed', () => {
  const state = createCatalogState(() => {});
  const feed = createCatalogFeed({ prefix: '/s/', reader: registrations(plainFormat), logger: silentLogger, state });
  feed.sink.reset([entry('/s/a/127.0.0.1:1', 1), entry('/s/b/127.0.0.1:2', 2)], 2);
  feed.sink.apply([{ type: 'put', entry: entry('/s/a/127.0.0.1:3', 3) }]); // the key index exists from here on
  feed.sink.reset([entry('/s/a/127.0.0.1:1', 1), entry('/s/a/127.0.0.1:3', 3), entry('/s/c/127.0.0.1:4', 4)], 4);
  feed.sink.apply([{ type: 'delete', key: '/s/c/127.0.0.1:4', modRevision: 5 }]);
  feed.sink.apply([{ type: 'delete', key: '/s/b/127.0.0.1:2', modRevision: 6 }]);
  expect([...state.current().services.keys()]).toEqual(['a']);
  expect(state.current().services.get('a')!.instances.map((i) => i.port)).toEqual([1, 3]);
});

test('a reset leaves the keys changed since its revision as they are: not reverted, not removed, not brought back', () => {
  const state = createCatalogState(() => {});
  const feed = createCatalogFeed({ prefix: '/s/', reader: registrations(plainFormat), logger: silentLogger, state });
  feed.sink.reset([entry('/s/a/127.0.0.1:1', 1), entry('/s/a/127.0.0.1:2', 2), entry('/s/a/127.0.0.1:4', 3)], 3);
  // applied live while a list at revision 3 was read: :2 rewritten, :3 added, :4 deleted
  feed.sink.apply([{ type: 'put', entry: entry('/s/a/127.0.0.1:2', 5, '{"weight":9}') }]);
  feed.sink.apply([{ type: 'put', entry: entry('/s/a/127.0.0.1:3', 6) }]);
  feed.sink.apply([{ type: 'delete', key: '/s/a/127.0.0.1:4', modRevision: 7 }]);
  const listing = [entry('/s/a/127.0.0.1:1', 1), entry('/s/a/127.0.0.1:2', 2), entry('/s/a/127.0.0.1:4', 3)];
  feed.sink.reset(listing, 3, new Set(['/s/a/127.0.0.1:2', '/s/a/127.0.0.1:3', '/s/a/127.0.0.1:4']));
  expect(state.current().services.get('a')!.instances.map((i) => [i.port, i.weight, i.revision])).toEqual([
    [1, 1, 1],
    [2, 9, 5],
    [3, 1, 6],
  ]);
});

test('a format that gives an instance another service than its key\'s segment is refused, naming both', () => {
  const state = createCatalogState(() => {});
  const fromValue = registrations((_prefix, e) => ({ kind: 'instance', instance: instanceDefaults(e.key, e.value, '10.0.0.1', 80, e.modRevision) }));
  const feed = createCatalogFeed({ prefix: '/s/', reader: fromValue, logger: silentLogger, state });
  feed.sink.reset([entry('/s/a/1', 1, 'a'), entry('/s/a/2', 2, 'b')], 2);
  expect([...state.current().services.keys()]).toEqual(['a']);
  expect(state.current().rejected.get('/s/a/2')?.reason).toBe('the service of a registration is the key\'s segment after /s/ ("a"); the format decoded "b"');
});
