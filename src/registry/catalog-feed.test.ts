import { expect, test } from 'bun:test';
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
