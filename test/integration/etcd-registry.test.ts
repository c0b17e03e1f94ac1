// The etcd registry of a cold start against a real etcd: the first list without etcd3, the watches that
// follow it, and the etcd3 path it falls back to (an etcd user, unreachable endpoints).
import { expect, test } from 'bun:test';
import { silentLogger } from '../../src/lib/logger.ts';
import { firstList } from '../../src/registry/etcd-first-list.ts';
import { DEFAULT_PAGING } from '../../src/registry/etcd-range-wire.ts';
import { createEtcdRegistry } from '../../src/registry/etcd-registry.ts';
import type { RawChange, RawEntry, RegistrySink, SourceStatus } from '../../src/registry/source.ts';
import { startEtcd } from '../harness/etcd.ts';
import { waitFor } from '../harness/wait-for.ts';

const PREFIXES = ['/services/', '/switchyard/routes/'];

function recordingSink() {
  const resets: { keys: string[]; revision: number }[] = [];
  const changes: RawChange[] = [];
  const statuses: SourceStatus[] = [];
  const sink: RegistrySink = {
    reset: (entries: readonly RawEntry[], revision: number) => resets.push({ keys: entries.map((e) => e.key), revision }),
    apply: (c) => changes.push(...c),
    status: (s) => statuses.push(s),
  };
  return { sink, resets, changes, statuses };
}

const keysOf = (changes: readonly RawChange[]) => changes.map((c) => (c.type === 'put' ? c.entry.key : c.key));

test('the first list is made without etcd3; each prefix is then watched from the revision after its list, losing nothing', async () => {
  await using etcd = await startEtcd();
  await etcd.client.put('/services/a/10.0.0.1:80').value('');
  await etcd.client.put('/services/b/10.0.0.2:80').value('{"weight":2}');
  await etcd.client.put('/switchyard/routes/a').value('{}');
  await etcd.client.put('/other/x').value('');
  const revision = Number((await etcd.client.get('/').exec()).header.revision);

  const listed = await firstList({ endpoints: [etcd.endpoint] }, PREFIXES, DEFAULT_PAGING);
  expect(listed.ok).toBe(true);
  if (!listed.ok) return;
  expect([...listed.lists].map(([p, l]) => [p, l.entries.map((e) => [e.key, e.value]), l.revision])).toEqual([
    ['/services/', [['/services/a/10.0.0.1:80', ''], ['/services/b/10.0.0.2:80', '{"weight":2}']], revision],
    ['/switchyard/routes/', [['/switchyard/routes/a', '{}']], revision],
  ]);

  const registry = createEtcdRegistry({ endpoints: [etcd.endpoint] }, PREFIXES, silentLogger);
  const [services, routes] = [recordingSink(), recordingSink()];
  await Promise.all([registry.sources[0]!.start(services.sink), registry.sources[1]!.start(routes.sink)]);
  expect(services.resets).toEqual([{ keys: ['/services/a/10.0.0.1:80', '/services/b/10.0.0.2:80'], revision }]);
  expect(routes.resets).toEqual([{ keys: ['/switchyard/routes/a'], revision }]);
  // Written right after start, likely before the watch is open: it arrives through the watch's replay.
  await etcd.client.put('/services/c/10.0.0.3:80').value('');
  await etcd.client.delete().key('/switchyard/routes/a');
  await waitFor(() => services.changes.length === 1 && routes.changes.length === 1, { message: 'the two changes' });
  expect(keysOf(services.changes)).toEqual(['/services/c/10.0.0.3:80']);
  expect(routes.changes).toEqual([{ type: 'delete', key: '/switchyard/routes/a', modRevision: revision + 2 }]);
  expect(services.resets).toHaveLength(1);
  await waitFor(() => services.statuses.at(-1)?.state === 'synced', { message: 'synced status' });

  for (const s of registry.sources) await s.stop();
  await registry.close();
  await etcd.client.put('/services/d/10.0.0.4:80').value('');
  await Bun.sleep(100);
  expect(keysOf(services.changes)).toEqual(['/services/c/10.0.0.3:80']);
}, 30_000);

test('watches wait for watchAfter, then replay what changed meanwhile; a source stopped before that stops at once', async () => {
  await using etcd = await startEtcd();
  await etcd.client.put('/services/a/10.0.0.1:80').value('');
  let release = () => {};
  const watchAfter = new Promise<void>((r) => (release = r));
  const registry = createEtcdRegistry({ endpoints: [etcd.endpoint] }, PREFIXES, silentLogger, watchAfter);
  const [services, routes] = [recordingSink(), recordingSink()];
  await Promise.all([registry.sources[0]!.start(services.sink), registry.sources[1]!.start(routes.sink)]);
  await etcd.client.put('/services/b/10.0.0.2:80').value('');
  await Bun.sleep(300);
  expect(services.changes).toEqual([]);
  await registry.sources[1]!.stop();
  release();
  await waitFor(() => services.changes.length === 1, { message: 'the change made while the watch waited' });
  expect(keysOf(services.changes)).toEqual(['/services/b/10.0.0.2:80']);
  expect(routes.statuses.map((s) => s.state)).not.toContain('synced');
  await registry.sources[0]!.stop();
  await registry.close();
}, 30_000);

test('with an etcd user the lists go through etcd3, which authenticates', async () => {
  await using etcd = await startEtcd();
  await etcd.client.put('/services/a/10.0.0.1:80').value('');
  await etcd.client.user('root').create('root-pw');
  await etcd.client.user('root').addRole('root');
  await etcd.client.auth.authEnable();

  const options = { endpoints: [etcd.endpoint], username: 'root', password: 'root-pw' };
  expect(await firstList(options, PREFIXES, DEFAULT_PAGING)).toEqual({ ok: false, why: 'etcd authentication is configured' });
  const registry = createEtcdRegistry(options, PREFIXES.slice(0, 1), silentLogger);
  const { sink, resets, changes } = recordingSink();
  await registry.sources[0]!.start(sink);
  expect(resets.map((r) => r.keys)).toEqual([['/services/a/10.0.0.1:80']]);
  const writer = etcd.newClient({ username: 'root', password: 'root-pw' });
  await writer.put('/services/b/10.0.0.2:80').value('');
  await waitFor(() => changes.length === 1, { message: 'the change through the authenticated watch' });
  await registry.sources[0]!.stop();
  await registry.close();
}, 30_000);

test('an unreachable endpoint is skipped for the next; when none answers, each reason is given', async () => {
  await using etcd = await startEtcd();
  await etcd.client.put('/services/a/10.0.0.1:80').value('');
  const dead = 'http://127.0.0.1:1';
  const next = await firstList({ endpoints: [dead, etcd.endpoint] }, PREFIXES, DEFAULT_PAGING);
  expect(next.ok && next.lists.get('/services/')!.entries.map((e) => e.key)).toEqual(['/services/a/10.0.0.1:80']);

  const none = await firstList({ endpoints: [dead, 'http://127.0.0.1:2'] }, PREFIXES, DEFAULT_PAGING);
  expect(none.ok).toBe(false);
  if (!none.ok) expect(none.why).toMatch(/^http:\/\/127\.0\.0\.1:1: .*UNAVAILABLE.*; http:\/\/127\.0\.0\.1:2: .*UNAVAILABLE/);
}, 30_000);

test('options etcd3 would misuse are refused when the registry is made, before anything is loaded', () => {
  expect(() => createEtcdRegistry({ endpoints: ['http://a:2379', 'https://b:2379'] }, PREFIXES, silentLogger)).toThrow(/mix http and https/);
  expect(() => createEtcdRegistry({ endpoints: [] }, PREFIXES, silentLogger)).toThrow(/no etcd endpoints/);
  expect(() => createEtcdRegistry({ endpoints: ['127.0.0.1:2379'], username: 'u' }, PREFIXES, silentLogger)).toThrow(/together/);
});
