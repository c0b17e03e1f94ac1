// Tests of the harness itself: greeters and the out-of-process gRPC client, over non-xDS targets (no control
// plane needed). The xDS end-to-end tests live in test/integration/.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { greeterClient, startGreeter } from '../../src/demo/greeter.ts';
import { startGreeters } from './greeters.ts';
import { waitFor } from './wait-for.ts';
import { startXdsClient, type Runtime, type XdsClient } from './xds-client.ts';

const UNAVAILABLE = 14;
const DEADLINE_EXCEEDED = 4;

/** A port nothing listens on: bound by a greeter that is then stopped. */
async function deadPort(): Promise<number> {
  const g = await startGreeter({ id: 'dead' });
  await g.stop();
  return g.port;
}

describe('greeter', () => {
  test('answers with its instance id', async () => {
    await using g = await startGreeter({ id: 'solo' });
    using client = greeterClient(g.address);
    expect(g.address).toBe(`127.0.0.1:${g.port}`);
    expect(await client.sayHello('Ada')).toEqual({ message: 'Hello, Ada', instance: 'solo' });
    expect(g.served()).toBe(1);
    expect(g.inFlight()).toBe(0);
  });

  test('graceful stop finishes in-flight calls and refuses new ones', async () => {
    const g = await startGreeter({ id: 'draining' });
    using client = greeterClient(g.address);
    const slow = client.sayHello('slow', { delayMs: 300 });
    await waitFor(() => g.inFlight() === 1, { message: 'call in flight', intervalMs: 5 });
    const stopped = g.stop();
    expect(await slow).toEqual({ message: 'Hello, slow', instance: 'draining' });
    await stopped;
    expect(g.inFlight()).toBe(0);
    await expect(client.sayHello('late', { deadlineMs: 1000 })).rejects.toMatchObject({ code: UNAVAILABLE });
  });

  test('kill cancels in-flight calls', async () => {
    const g = await startGreeter({ id: 'crashing' });
    using client = greeterClient(g.address);
    const slow = client.sayHello('slow', { delayMs: 10_000, deadlineMs: 5000 });
    await waitFor(() => g.inFlight() === 1, { message: 'call in flight', intervalMs: 5 });
    g.kill();
    await expect(slow).rejects.toMatchObject({ code: expect.any(Number) });
    await waitFor(() => g.inFlight() === 0, { message: 'call cancelled on the server', intervalMs: 5 });
    expect(g.served()).toBe(0);
  });

  test('startGreeters: ids from the prefix, one disposable group', async () => {
    let ports: number[];
    {
      await using group = await startGreeters(3, { idPrefix: 'g' });
      expect(group.map((g) => g.id)).toEqual(['g-0', 'g-1', 'g-2']);
      ports = group.map((g) => g.port);
      expect(new Set(ports).size).toBe(3);
      using client = greeterClient(group[2]!.address);
      expect((await client.sayHello('x')).instance).toBe('g-2');
    }
    using client = greeterClient(`127.0.0.1:${ports[0]}`);
    await expect(client.sayHello('x', { deadlineMs: 1000 })).rejects.toMatchObject({ code: UNAVAILABLE });
  });
});

describe.each(['node', 'bun'] as Runtime[])('xds client worker under %s', (runtime) => {
  let client: XdsClient;
  let dead: number;

  beforeAll(async () => {
    dead = await deadPort();
    // No control plane in these tests: the bootstrap points at a dead port.
    client = await startXdsClient({ runtime, xdsServer: `127.0.0.1:${dead}` });
  });
  afterAll(async () => {
    await client?.close();
  });

  test('reports its runtime and the pinned grpc-js versions', () => {
    expect(client.versions.grpcJs).toBe('1.14.7');
    expect(client.versions.grpcJsXds).toBe('1.14.1');
    expect(client.versions.runtime).toBe(runtime);
    expect(client.versions.version).toMatch(runtime === 'node' ? /^v\d+\./ : /^1\./);
    expect(client.bootstrap.node.id).toBe(client.nodeId);
  });

  test('call: counts by the instance that answered', async () => {
    await using greeters = await startGreeters(2, { idPrefix: `${runtime}-greeter` });
    const [a, b] = greeters;
    expect(await client.call(`dns:///${a!.address}`, 5)).toEqual({ counts: { [a!.id]: 5 }, failures: [] });
    expect(await client.call(b!.address, 3)).toEqual({ counts: { [b!.id]: 3 }, failures: [] });
    expect(await client.state(`dns:///${a!.address}`)).toBe('READY');
    expect(a!.served()).toBe(5);
  });

  test('start-load / stop-load returns a record per call', async () => {
    await using greeters = await startGreeters(1, { idPrefix: `${runtime}-load` });
    const g = greeters[0]!;
    const before = Date.now();
    await client.startLoad(`dns:///${g.address}`, { concurrency: 2 });
    await expect(client.startLoad(`dns:///${g.address}`)).rejects.toThrow(/already running/);
    await waitFor(() => g.served() >= 20, { message: '20 calls served', intervalMs: 5 });
    expect(await client.loadStats()).toMatchObject({ errors: 0, counts: { [g.id]: expect.any(Number) } });
    const records = await client.stopLoad();
    expect(records.length).toBeGreaterThanOrEqual(20);
    expect(records.length).toBe(g.served());
    for (const r of records) {
      expect(r).toEqual({ t: expect.any(Number), instance: g.id, error: null });
      expect(r.t).toBeGreaterThanOrEqual(before);
    }
    await expect(client.stopLoad()).rejects.toThrow(/no load running/);
  });

  test('calls held by the server show up as in flight', async () => {
    await using greeters = await startGreeters(1, { idPrefix: `${runtime}-slow` });
    const g = greeters[0]!;
    const call = client.call(g.address, 1, { delayMs: 400 });
    await waitFor(() => g.inFlight() === 1, { message: 'call in flight', intervalMs: 5 });
    expect(await call).toEqual({ counts: { [g.id]: 1 }, failures: [] });
  });

  test('metadata is sent with every call (here the greeter\'s own x-delay-ms key)', async () => {
    await using greeters = await startGreeters(1, { idPrefix: `${runtime}-meta` });
    const g = greeters[0]!;
    const call = client.call(g.address, 2, { metadata: { 'x-delay-ms': '300' } });
    await waitFor(() => g.inFlight() === 1, { message: 'call held by the metadata delay', intervalMs: 5 });
    expect(await call).toEqual({ counts: { [g.id]: 2 }, failures: [] });
  });

  test('failures are reported, not fatal', async () => {
    const r = await client.call(`dns:///127.0.0.1:${dead}`, 3, { deadlineMs: 500 });
    expect(r.counts).toEqual({});
    expect(r.failures).toHaveLength(3);
    for (const f of r.failures) expect(f).toEqual({ code: UNAVAILABLE, details: expect.stringContaining('ECONNREFUSED') });

    // xds: with no control plane reachable: the scheme is registered (an unknown scheme would fail fast via
    // 'dns:xds:///…'), and resolution waits for the ADS stream until the deadline (A57).
    const x = await client.call('xds:///greeter', 1, { deadlineMs: 300 });
    expect(x).toEqual({
      counts: {},
      failures: [{ code: DEADLINE_EXCEEDED, details: expect.stringContaining('waiting for name resolution') }],
    });

    // Load against a dead port records errors, then the worker still serves calls.
    await client.startLoad(`127.0.0.1:${dead}`, { deadlineMs: 200 });
    await waitFor(async () => (await client.loadStats()).errors >= 3, { message: '3 failed calls', intervalMs: 5 });
    const records = await client.stopLoad();
    expect(records.length).toBeGreaterThanOrEqual(3);
    for (const r of records) expect(r).toEqual({ t: expect.any(Number), instance: null, error: { code: UNAVAILABLE, details: expect.any(String) } });

    await using greeters = await startGreeters(1, { idPrefix: `${runtime}-after` });
    expect(await client.call(greeters[0]!.address, 1)).toEqual({ counts: { [greeters[0]!.id]: 1 }, failures: [] });
  });
});
