import { afterEach, describe, expect, jest, test } from 'bun:test';
import { Code, SwitchyardError } from '../lib/errors.ts';
import { createMemoryRegistry, createMemoryStore, type MemoryStore } from './memory-registry.ts';
import type { RawChange, RawEntry, RegistrySink, SourceStatus } from './source.ts';

type Event =
  | { reset: readonly RawEntry[]; revision: number }
  | { apply: readonly RawChange[] }
  | { status: SourceStatus['state']; revision: number };

/** Records what a source delivers, in order. */
function recordingSink(): RegistrySink & { events: Event[] } {
  const events: Event[] = [];
  return {
    events,
    reset: (entries, revision) => events.push({ reset: entries, revision }),
    apply: (changes) => events.push({ apply: changes }),
    status: (s) => events.push({ status: s.state, revision: s.revision }),
  };
}

const entry = (key: string, value: string, modRevision: number, lease = '0'): RawEntry => ({ key, value, modRevision, lease });

async function waitFor(cond: () => boolean, what: string, timeoutMs = 2000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const stores: MemoryStore[] = [];
const newStore = () => {
  const s = createMemoryStore();
  stores.push(s);
  return s;
};
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
  jest.useRealTimers();
});

describe('memory store: KV', () => {
  test('put/get/list/delete with etcd-like revisions', () => {
    const s = newStore();
    expect(s.revision).toBe(1);
    expect(s.put('/services/b/1', 'B1')).toBe(2);
    expect(s.put('/services/a/1', 'A1')).toBe(3);
    expect(s.put('/other/x', 'X')).toBe(4);
    expect(s.get('/services/a/1')).toEqual(entry('/services/a/1', 'A1', 3));
    expect(s.list('/services/')).toEqual([entry('/services/a/1', 'A1', 3), entry('/services/b/1', 'B1', 2)]);
    expect(s.list().map((e) => e.key)).toEqual(['/other/x', '/services/a/1', '/services/b/1']);

    expect(s.put('/services/a/1', 'A1')).toBe(5); // same value still a new revision, like etcd
    expect(s.delete('/services/b/1')).toBe(true);
    expect(s.revision).toBe(6);
    expect(s.delete('/services/b/1')).toBe(false);
    expect(s.revision).toBe(6);
    expect(s.get('/services/b/1')).toBeUndefined();
  });

  test('rejects an empty key and an unknown lease', () => {
    const s = newStore();
    expect(() => s.put('', 'v')).toThrow(SwitchyardError);
    expect(() => s.put('/k', 'v', { lease: '42' })).toThrow(/lease 42 not found/);
    expect(s.revision).toBe(1);
  });
});

describe('memory store: leases', () => {
  test('revoke deletes the lease keys in one revision and leaves others', async () => {
    const s = newStore();
    const lease = s.grantLease(60);
    s.put('/services/a/1', 'A1', { lease });
    s.put('/services/a/2', 'A2', { lease });
    s.put('/services/a/3', 'A3');
    expect(s.get('/services/a/1')?.lease).toBe(lease);
    const sink = recordingSink();
    await s.source('/services/').start(sink);
    sink.events.length = 0;

    s.revoke(lease);
    expect(s.revision).toBe(5);
    expect(s.list('/services/')).toEqual([entry('/services/a/3', 'A3', 4)]);
    expect(sink.events).toEqual([
      {
        apply: [
          { type: 'delete', key: '/services/a/1', modRevision: 5 },
          { type: 'delete', key: '/services/a/2', modRevision: 5 },
        ],
      },
    ]);
    expect(() => s.revoke(lease)).toThrow(/not found/);
    expect(() => s.keepAlive(lease)).toThrow(/not found/);
  });

  test('a put without a lease detaches the key from its old lease', () => {
    const s = newStore();
    const lease = s.grantLease(60);
    s.put('/k', 'v1', { lease });
    s.put('/k', 'v2');
    s.revoke(lease);
    expect(s.get('/k')).toEqual(entry('/k', 'v2', 3));
  });

  test('an expiring lease without keys does not move the revision', () => {
    jest.useFakeTimers();
    const s = newStore();
    s.grantLease(1);
    jest.advanceTimersByTime(1500);
    expect(s.revision).toBe(1);
  });

  test('a lease expires after its TTL (real timers, short TTL) and its keys are deleted', async () => {
    const s = newStore();
    const sink = recordingSink();
    await s.source('/services/').start(sink);
    const lease = s.grantLease(0.05);
    s.put('/services/a/1', 'A1', { lease });
    await waitFor(() => s.get('/services/a/1') === undefined, 'lease expiry');
    expect(sink.events.at(-1)).toEqual({ apply: [{ type: 'delete', key: '/services/a/1', modRevision: 3 }] });
    expect(() => s.keepAlive(lease)).toThrow(expect.objectContaining({ code: Code.NotFound }));
  });

  test('keepAlive restarts the TTL', () => {
    jest.useFakeTimers();
    const s = newStore();
    const lease = s.grantLease(1);
    s.put('/k', 'v', { lease });
    for (let i = 0; i < 5; i++) {
      jest.advanceTimersByTime(800);
      s.keepAlive(lease);
    }
    expect(s.get('/k')).toBeDefined(); // 4 s in, TTL 1 s, still alive
    jest.advanceTimersByTime(999);
    expect(s.get('/k')).toBeDefined();
    jest.advanceTimersByTime(2);
    expect(s.get('/k')).toBeUndefined();
    expect(() => s.keepAlive(lease)).toThrow(/not found/);
  });

  test('rejects a non-positive TTL', () => {
    const s = newStore();
    expect(() => s.grantLease(0)).toThrow(SwitchyardError);
    expect(() => s.grantLease(Number.NaN)).toThrow(SwitchyardError);
  });
});

describe('memory source', () => {
  test('start: reset, then synced, then apply per revision', async () => {
    const s = newStore();
    s.put('/services/a/1', 'A1');
    s.put('/elsewhere/x', 'X');
    const sink = recordingSink();
    const src = s.source('/services/');
    expect(src).toMatchObject({ kind: 'memory', prefix: '/services/', description: 'memory prefix /services/' });
    await src.start(sink);
    s.put('/services/a/2', 'A2');
    s.delete('/services/a/1');
    expect(sink.events).toEqual([
      { reset: [entry('/services/a/1', 'A1', 2)], revision: 3 },
      { status: 'synced', revision: 3 },
      { apply: [{ type: 'put', entry: entry('/services/a/2', 'A2', 4) }] },
      { apply: [{ type: 'delete', key: '/services/a/1', modRevision: 5 }] },
    ]);
  });

  test('prefix isolation, including a sibling prefix that shares a string prefix', async () => {
    const s = newStore();
    const a = recordingSink();
    const b = recordingSink();
    await s.source('/services/').start(a);
    await s.source('/services-canary/').start(b);
    s.put('/services/x/1', 'X');
    s.put('/services-canary/y/1', 'Y');
    expect(a.events.slice(2)).toEqual([{ apply: [{ type: 'put', entry: entry('/services/x/1', 'X', 2) }] }]);
    expect(b.events.slice(2)).toEqual([{ apply: [{ type: 'put', entry: entry('/services-canary/y/1', 'Y', 3) }] }]);
  });

  test('stop ends delivery; start twice is a bug; restart gets a fresh reset', async () => {
    const s = newStore();
    const src = s.source('/p/');
    const sink = recordingSink();
    await src.start(sink);
    await expect(src.start(recordingSink())).rejects.toThrow(/already started/);
    await src.stop();
    s.put('/p/1', 'v');
    expect(sink.events).toHaveLength(2);
    const again = recordingSink();
    await src.start(again);
    expect(again.events[0]).toEqual({ reset: [entry('/p/1', 'v', 2)], revision: 2 });
  });

  test('a sink writing from inside apply: every sink still sees revisions in order', async () => {
    const s = newStore();
    const writer = recordingSink();
    const writerApply = writer.apply;
    writer.apply = (changes) => {
      writerApply(changes);
      if (changes.some((c) => c.type === 'put' && c.entry.key === '/p/1')) s.put('/p/2', 'echo');
    };
    const observer = recordingSink();
    await s.source('/p/').start(writer);
    await s.source('/p/').start(observer);
    s.put('/p/1', 'v');
    const revs = (ev: Event[]) => ev.flatMap((e) => ('apply' in e ? e.apply.map((c) => (c.type === 'put' ? c.entry.modRevision : c.modRevision)) : []));
    expect(revs(writer.events)).toEqual([2, 3]);
    expect(revs(observer.events)).toEqual([2, 3]);
  });
});

describe('createMemoryRegistry', () => {
  test('is a RegistrySource over /services/ with the store API', async () => {
    const reg = createMemoryRegistry();
    stores.push(reg.store);
    expect(reg).toMatchObject({ kind: 'memory', prefix: '/services/', description: 'memory prefix /services/' });
    const lease = reg.grantLease(60);
    reg.put('/services/greeter/127.0.0.1:1', '{}', { lease });
    const sink = recordingSink();
    await reg.start(sink);
    expect(sink.events.slice(0, 2)).toEqual([
      { reset: [entry('/services/greeter/127.0.0.1:1', '{}', 2, lease)], revision: 2 },
      { status: 'synced', revision: 2 },
    ]);
    reg.revoke(lease);
    expect(reg.revision).toBe(3);
    expect(sink.events.at(-1)).toEqual({ apply: [{ type: 'delete', key: '/services/greeter/127.0.0.1:1', modRevision: 3 }] });
    await reg.stop();
  });

  test('two registries can share one store', async () => {
    const store = newStore();
    const a = createMemoryRegistry({ prefix: '/a/', store });
    const b = createMemoryRegistry({ prefix: '/b/', store });
    a.put('/b/1', 'v');
    expect(b.list('/b/')).toEqual([entry('/b/1', 'v', 2)]);
    expect(a.revision).toBe(b.revision);
  });
});
