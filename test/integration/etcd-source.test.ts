import { expect, test } from 'bun:test';
import type { Etcd3 } from 'etcd3';
import { SwitchyardError } from '../../src/lib/errors.ts';
import { rangeReader } from '../../src/registry/etcd-range.ts';
import type { RangeRequest } from '../../src/registry/etcd-range-wire.ts';
import { createEtcdSource, type EtcdSource, type EtcdSourceOptions, type Timers } from '../../src/registry/etcd-source.ts';
import type { RawChange, RawEntry, RegistrySink, SourceStatus } from '../../src/registry/source.ts';
import { startEtcd, startTcpProxy } from '../harness/etcd.ts';
import { waitFor } from '../harness/wait-for.ts';

/** A sink that mirrors state the way the catalog will, and records every call. */
function recordingSink() {
  const state = new Map<string, { value: string; modRevision: number; lease: string }>();
  const resets: { keys: string[]; revision: number; since: string[] }[] = [];
  const applies: RawChange[][] = [];
  const statuses: SourceStatus[] = [];
  const violations: string[] = [];
  let resetRevision = 0;
  let lastRevision = 0;
  const sink: RegistrySink = {
    reset(entries: readonly RawEntry[], revision: number, since?: ReadonlySet<string>) {
      resets.push({ keys: entries.map((e) => e.key), revision, since: [...(since ?? [])].sort() });
      resetRevision = lastRevision = revision;
      for (const key of state.keys()) if (!since?.has(key)) state.delete(key);
      for (const e of entries) if (!since?.has(e.key)) state.set(e.key, { value: e.value, modRevision: e.modRevision, lease: e.lease });
    },
    apply(changes: readonly RawChange[]) {
      applies.push([...changes]);
      for (const c of changes) {
        const rev = c.type === 'put' ? c.entry.modRevision : c.modRevision;
        if (rev <= resetRevision) violations.push(`change at ${rev} not after reset ${resetRevision}`);
        if (rev < lastRevision) violations.push(`change at ${rev} after ${lastRevision}`);
        lastRevision = rev;
        if (c.type === 'put') state.set(c.entry.key, { value: c.entry.value, modRevision: c.entry.modRevision, lease: c.entry.lease });
        else state.delete(c.key);
      }
    },
    status(s: SourceStatus) {
      statuses.push(s);
    },
  };
  return {
    sink,
    state,
    resets,
    applies,
    statuses,
    violations,
    get calls() {
      return resets.length + applies.length + statuses.length;
    },
    get current(): SourceStatus['state'] | undefined {
      return statuses.at(-1)?.state;
    },
  };
}

async function etcdState(client: Etcd3, prefix: string) {
  const res = await client.getAll().prefix(prefix).exec();
  return new Map(res.kvs.map((kv) => [kv.key.toString(), { value: kv.value.toString(), modRevision: Number(kv.mod_revision), lease: kv.lease }]));
}

const mirrors = async (rec: ReturnType<typeof recordingSink>, client: Etcd3, prefix: string) => {
  const want = await etcdState(client, prefix);
  return JSON.stringify([...rec.state].sort()) === JSON.stringify([...want].sort());
};

function startSource(options: EtcdSourceOptions, rec: ReturnType<typeof recordingSink>) {
  const source = createEtcdSource(options);
  const started = source.start(rec.sink);
  return { source, started, [Symbol.asyncDispose]: () => source.stop() };
}

/** State sequence without repeats (a changed reason re-reports the same state). */
const states = (all: readonly SourceStatus[]) => all.map((x) => x.state).filter((x, i, a) => x !== a[i - 1]);

const keysOf = (changes: readonly RawChange[]) => changes.map((c) => `${c.type} ${c.type === 'put' ? c.entry.key : c.key}`);

test('delivers the initial list through reset, across pages', async () => {
  await using etcd = await startEtcd();
  for (let i = 0; i < 7; i++) await etcd.client.put(`/list/svc/10.0.0.${i}:80`).value(`v${i}`);
  await etcd.client.put('/list/other').value('x');
  await etcd.client.put('/lisx').value('outside');
  await etcd.client.put('/other/svc/10.0.0.1:80').value('outside');
  const revision = Number((await etcd.client.kv.range({ key: Buffer.from('/') })).header.revision);

  const rec = recordingSink();
  const client = etcd.newClient();
  const limits: unknown[] = [];
  const direct = rangeReader(client);
  expect(direct.direct).toBe(true);
  const readRange = Object.assign((req: RangeRequest) => (limits.push(req.limit), direct(req)), { direct: true });
  // a key and its value are 12 or 23 bytes: 35 / 2 in the first page gives 70 / 17.5 = 4 keys next, then 127 / 6 gives 3
  await using s = startSource({ client, prefix: '/list/', pageSize: 2, pageBytes: 70, readRange }, rec);
  await s.started;

  expect(rec.resets).toEqual([
    { keys: ['/list/other', ...Array.from({ length: 7 }, (_, i) => `/list/svc/10.0.0.${i}:80`)], revision, since: [] },
  ]);
  expect(limits).toEqual([2, 4, 3]);
  expect(rec.state.get('/list/svc/10.0.0.3:80')).toEqual({ value: 'v3', modRevision: 5, lease: '0' });
  await waitFor(() => rec.current === 'synced', { message: 'status synced' });
  expect(states(rec.statuses)).toEqual(['connecting', 'synced']);
  expect(s.source.stats).toMatchObject({ relists: 0, reconnects: 0, lastSyncRevision: revision });
}, 30_000);

test('delivers puts and deletes through apply, in order, one batch per watch response', async () => {
  await using etcd = await startEtcd();
  await etcd.client.put('/ord/a').value('1');
  const rec = recordingSink();
  await using s = startSource({ client: etcd.newClient(), prefix: '/ord/' }, rec);
  await s.started;
  // start() resolves after the reset; until the watcher is connected, writes would arrive as one catch-up batch
  await waitFor(() => rec.current === 'synced', { message: 'watcher connected' });

  await etcd.client.put('/ord/b').value('2');
  await etcd.client.put('/ord/a').value('1b');
  await etcd.client.delete().key('/ord/b');
  await etcd.client.put('/elsewhere/z').value('ignored');
  await etcd.client
    .if('/ord/a', 'Value', '==', '1b')
    .then(etcd.client.put('/ord/c').value('3'), etcd.client.put('/ord/d').value('4'), etcd.client.delete().key('/ord/a'))
    .commit();

  await waitFor(() => mirrors(rec, etcd.client, '/ord/'), { message: 'sink mirrors etcd' });
  expect(rec.applies.flatMap(keysOf)).toEqual(['put /ord/b', 'put /ord/a', 'delete /ord/b', 'put /ord/c', 'put /ord/d', 'delete /ord/a']);
  expect(rec.applies.map(keysOf)).toContainEqual(['put /ord/c', 'put /ord/d', 'delete /ord/a']);
  expect([...rec.state.keys()].sort()).toEqual(['/ord/c', '/ord/d']);
  expect(rec.violations).toEqual([]);
}, 30_000);

test('a revoked lease arrives as a delete', async () => {
  await using etcd = await startEtcd();
  const rec = recordingSink();
  await using s = startSource({ client: etcd.newClient(), prefix: '/lease/' }, rec);
  await s.started;

  const lease = etcd.client.lease(30, { autoKeepAlive: false });
  const id = await lease.grant();
  await lease.put('/lease/svc/10.0.0.1:80').value('{}');
  await waitFor(() => rec.state.get('/lease/svc/10.0.0.1:80')?.lease === id, { message: 'leased key delivered' });

  await lease.revoke();
  await waitFor(() => !rec.state.has('/lease/svc/10.0.0.1:80'), { message: 'leased key deleted' });
  expect(keysOf(rec.applies.at(-1)!)).toEqual(['delete /lease/svc/10.0.0.1:80']);
}, 30_000);

test('etcd restart with no writes: stale while down, then re-listed to the same state', async () => {
  await using etcd = await startEtcd();
  await etcd.client.put('/rn/a').value('1');
  await etcd.client.put('/rn/b').value('2');
  const rec = recordingSink();
  await using s = startSource({ client: etcd.newClient(), prefix: '/rn/' }, rec);
  await s.started;
  await waitFor(() => rec.current === 'synced', { message: 'synced' });
  const before = new Map(rec.state);

  await etcd.restart({ whileDown: () => waitFor(() => rec.current === 'stale', { message: 'status stale while etcd is down' }) });
  await waitFor(() => rec.current === 'synced' && s.source.stats.relists >= 1, { timeoutMs: 20_000, message: 'synced again after a re-list' });

  expect(states(rec.statuses)).toEqual(['connecting', 'synced', 'stale', 'synced']);
  expect(rec.resets.length).toBeGreaterThanOrEqual(2);
  expect(rec.resets.every((r) => r.keys.join() === '/rn/a,/rn/b')).toBe(true);
  expect(rec.applies).toEqual([]);
  expect(rec.state).toEqual(before);
  expect(s.source.stats.reconnects).toBeGreaterThanOrEqual(1);
}, 30_000);

test('etcd restart: keeps state while down and loses no write made right after it', async () => {
  await using etcd = await startEtcd();
  await etcd.client.put('/rs/keep').value('k');
  await etcd.client.put('/rs/gone').value('g');
  const rec = recordingSink();
  await using s = startSource({ client: etcd.newClient(), prefix: '/rs/' }, rec);
  await s.started;
  await waitFor(() => rec.current === 'synced', { message: 'synced' });

  const callsBeforeOutage = { resets: rec.resets.length, applies: rec.applies.length };
  await etcd.restart({
    whileDown: async () => {
      await waitFor(() => rec.current === 'stale', { message: 'status stale while etcd is down' });
      // fail static: nothing may be removed while etcd is unreachable
      expect({ resets: rec.resets.length, applies: rec.applies.length }).toEqual(callsBeforeOutage);
      expect(rec.state.size).toBe(2);
    },
  });
  // written while the watcher is (probably) still reconnecting: the gap etcd-notes §2.2 warns about
  await etcd.client.put('/rs/new').value('n');
  await etcd.client.delete().key('/rs/gone');
  await etcd.client.put('/rs/keep').value('k2');

  await waitFor(async () => rec.current === 'synced' && (await mirrors(rec, etcd.client, '/rs/')), {
    timeoutMs: 20_000,
    message: 'synced again and mirroring etcd',
  });
  expect(states(rec.statuses)).toEqual(['connecting', 'synced', 'stale', 'synced']);
  expect(rec.statuses[2]?.reason).toContain('etcd');
  expect(rec.resets.every((r) => r.keys.includes('/rs/keep'))).toBe(true);
  expect(s.source.stats.reconnects).toBeGreaterThanOrEqual(1);
  expect(s.source.stats.relists).toBeGreaterThanOrEqual(1);
  expect(rec.violations).toEqual([]);
}, 30_000);

test('recovers from compaction of the revision a disconnected watcher resumes from', async () => {
  await using etcd = await startEtcd();
  // a proxy cuts only the source off, so keys can be written and compacted while its watcher is away
  await using proxy = await startTcpProxy(etcd.process.clientPort);
  await etcd.client.put('/cp/a').value('1');
  await etcd.client.put('/cp/b').value('1');
  const rec = recordingSink();
  await using s = startSource({ client: etcd.newClient({ endpoints: [proxy.endpoint] }), prefix: '/cp/' }, rec);
  await s.started;
  await waitFor(() => rec.current === 'synced', { message: 'synced' });

  proxy.cut();
  await waitFor(() => rec.current === 'stale', { message: 'stale after cut' });
  await etcd.client.delete().key('/cp/a');
  await etcd.client.put('/cp/b').value('2');
  for (let i = 0; i < 5; i++) await etcd.client.put(`/cp/n${i}`).value(String(i));
  const head = (await etcd.client.put('/cp/last').value('x').exec()).header.revision;
  await etcd.client.kv.compact({ revision: head, physical: true });
  proxy.restore();

  await waitFor(async () => s.source.stats.compactionsRecovered >= 1 && rec.current === 'synced' && (await mirrors(rec, etcd.client, '/cp/')), {
    timeoutMs: 20_000,
    message: 'compaction recovered and sink mirrors etcd',
  });
  expect([...rec.state.keys()].sort()).toEqual(['/cp/b', '/cp/last', '/cp/n0', '/cp/n1', '/cp/n2', '/cp/n3', '/cp/n4']);
  expect(rec.resets.at(-1)!.revision).toBeGreaterThanOrEqual(Number(head));
  expect(rec.violations).toEqual([]);
}, 30_000);

test('start() keeps retrying while etcd is unreachable and resolves once it is back', async () => {
  await using etcd = await startEtcd();
  await using proxy = await startTcpProxy(etcd.process.clientPort);
  await etcd.client.put('/up/a').value('1');
  proxy.cut();
  const rec = recordingSink();
  await using s = startSource({ client: etcd.newClient({ endpoints: [proxy.endpoint] }), prefix: '/up/' }, rec);
  let settled = false;
  void s.started.finally(() => (settled = true));
  await waitFor(() => rec.statuses.at(-1)?.reason !== undefined, { message: 'a failed attempt reported' });
  expect(settled).toBe(false);
  expect(rec.resets).toEqual([]);

  proxy.restore();
  await s.started;
  expect(rec.resets[0]?.keys).toEqual(['/up/a']);
}, 30_000);

test('start() rejects when stop() is called before etcd was ever reached', async () => {
  await using etcd = await startEtcd();
  await using proxy = await startTcpProxy(etcd.process.clientPort);
  proxy.cut();
  const rec = recordingSink();
  const source = createEtcdSource({ client: etcd.newClient({ endpoints: [proxy.endpoint] }), prefix: '/never/' });
  const started = source.start(rec.sink);
  started.catch(() => {});
  await waitFor(() => rec.statuses.at(-1)?.reason !== undefined, { message: 'a failed attempt reported' });
  expect(states(rec.statuses)).toEqual(['connecting']);

  await source.stop();
  const error = await started.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(SwitchyardError);
  expect((error as Error).message).toContain('/never/');
  expect(rec.resets).toEqual([]);
}, 30_000);

test('periodic resync re-lists, and stop() leaves no timers and no further sink calls', async () => {
  await using etcd = await startEtcd();
  await etcd.client.put('/tm/a').value('1');
  const timers = countingTimers();
  const rec = recordingSink();
  const source: EtcdSource = createEtcdSource({ client: etcd.newClient(), prefix: '/tm/', resyncIntervalMs: 50, timers });
  await source.start(rec.sink);
  await waitFor(() => source.stats.relists >= 3, { message: 'periodic re-lists' });
  expect(rec.resets.length).toBeGreaterThanOrEqual(4);
  expect(rec.resets.every((r) => r.keys.join() === '/tm/a')).toBe(true);
  expect(timers.active).toBeGreaterThan(0);

  await source.stop();
  expect(timers.active).toBe(0);
  const callsAtStop = rec.calls;

  // a live source is the barrier: once it has seen the put, a still-running stopped one would have too
  const witness = recordingSink();
  await using w = startSource({ client: etcd.newClient(), prefix: '/tm/' }, witness);
  await w.started;
  await etcd.client.put('/tm/b').value('2');
  await waitFor(() => witness.state.has('/tm/b'), { message: 'witness sees the put' });
  expect(rec.calls).toBe(callsAtStop);
  expect(timers.active).toBe(0);
  await source.stop(); // idempotent
}, 30_000);

test('a periodic re-list holds back no watch event, and its reset leaves the keys changed since its revision as they are', async () => {
  await using etcd = await startEtcd();
  await etcd.client.put('/rl/a').value('1');
  const client = etcd.newClient();
  const read = rangeReader(client);
  let holdNext = false;
  let release: (() => void) | undefined;
  // the resync's list reads its page, then waits to be released: writes made meanwhile come after its revision
  const hold = async (request: RangeRequest) => {
    const page = await read(request);
    if (holdNext) {
      holdNext = false;
      await new Promise<void>((r) => (release = r));
    }
    return page;
  };
  const readRange = Object.assign(hold, { direct: true });
  const rec = recordingSink();
  await using s = startSource({ client, prefix: '/rl/', resyncIntervalMs: 100, readRange }, rec);
  await s.started;
  holdNext = true;
  await waitFor(() => release !== undefined, { message: 'the resync list read and held' });
  await etcd.client.put('/rl/b').value('2');
  await etcd.client.delete().key('/rl/a');
  await waitFor(() => rec.state.has('/rl/b') && !rec.state.has('/rl/a'), { message: 'changes applied while the list is held' });
  expect(s.source.stats.relists).toBe(0);

  const applied = rec.applies.length;
  release!();
  await waitFor(() => s.source.stats.relists === 1, { message: 'the held list delivered' });
  // the reset is of the state before the writes, and names the keys they changed
  expect(rec.resets.at(-1)).toMatchObject({ keys: ['/rl/a'], since: ['/rl/a', '/rl/b'] });
  expect(rec.applies.length).toBe(applied);
  expect(await mirrors(rec, etcd.client, '/rl/')).toBe(true);
  expect(rec.violations).toEqual([]);
}, 30_000);

test('the periodic re-list reads in small pages, a pause between them; a first list in pages sized by bytes', async () => {
  await using etcd = await startEtcd();
  for (let i = 0; i < 5; i++) await etcd.client.put(`/pg/k${i}`).value('v');
  const client = etcd.newClient();
  const read = rangeReader(client);
  const pages: { limit: number; at: number }[] = [];
  const readRange = Object.assign((req: RangeRequest) => (pages.push({ limit: req.limit, at: performance.now() }), read(req)), { direct: true });
  const rec = recordingSink();
  await using s = startSource({ client, prefix: '/pg/', pageSize: 100, resyncIntervalMs: 50, resyncPaging: { pageSize: 2, pauseMs: 40 }, readRange }, rec);
  await s.started;
  expect(pages.map((p) => p.limit)).toEqual([100]);
  await waitFor(() => s.source.stats.relists >= 1, { message: 'a periodic re-list' });
  const resync = pages.slice(1, 4);
  expect(resync.map((p) => p.limit)).toEqual([2, 2, 2]);
  for (let i = 1; i < resync.length; i++) expect(resync[i]!.at - resync[i - 1]!.at).toBeGreaterThanOrEqual(35);
  expect(rec.resets.at(-1)!.keys).toHaveLength(5);
}, 30_000);

function countingTimers(): Timers & { readonly active: number } {
  const live = new Set<unknown>();
  return {
    setTimeout(fn, ms) {
      const h = setTimeout(() => {
        live.delete(h);
        fn();
      }, ms);
      live.add(h);
      return h;
    },
    clearTimeout(h) {
      live.delete(h);
      clearTimeout(h as ReturnType<typeof setTimeout>);
    },
    get active() {
      return live.size;
    },
  };
}
