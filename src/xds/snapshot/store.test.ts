import { describe, expect, test } from 'bun:test';
import { waitFor } from '../../../test/harness/wait-for.ts';
import { makeInstance } from '../../../test/fixtures/catalog.ts';
import { applyEvents } from '../../catalog/apply.ts';
import { emptyCatalog } from '../../catalog/model.ts';
import { parseRoutePolicyValue } from '../../catalog/route-policy.ts';
import { silentLogger } from '../../lib/logger.ts';
import { decodeMessage } from '../proto.ts';
import { OUTBOUND } from '../resources/envoy.ts';
import { TypeUrl } from '../type-urls.ts';
import { encodeResource } from './encoded.ts';
import { encodeService, type ServiceEncoder } from './service.ts';
import { createSnapshotStore, type ResourceChanges } from './store.ts';

const upsert = (service: string, port: number) => ({ type: 'upsert' as const, instance: makeInstance(service, port) });

test('coalesces changes, rebuilds only changed services and reports changed names per type', async () => {
  const store = createSnapshotStore({ logger: silentLogger, debounceMs: 5, maxDelayMs: 50 });
  const seen: ResourceChanges[] = [];
  store.subscribe((_s, changes) => seen.push(changes));
  const u1 = applyEvents(emptyCatalog, [upsert('a', 1), upsert('b', 1)]);
  store.update(u1.catalog, u1.changed);
  const u2 = applyEvents(u1.catalog, [upsert('a', 2)]);
  store.update(u2.catalog, u2.changed);
  await Bun.sleep(30);
  expect(seen).toHaveLength(1);
  const aEndpoints = store.current().get(TypeUrl.ClusterLoadAssignment, 'a')!;
  const bCluster = store.current().get(TypeUrl.Cluster, 'b')!;

  const u3 = applyEvents(u2.catalog, [upsert('a', 3)]);
  store.update(u3.catalog, u3.changed);
  store.flush();
  expect(seen).toHaveLength(2);
  expect([...seen[1]!.get(TypeUrl.ClusterLoadAssignment)!]).toEqual(['a']);
  expect(store.current().get(TypeUrl.Cluster, 'b')).toBe(bCluster);
  expect(store.current().get(TypeUrl.ClusterLoadAssignment, 'a')!.version).not.toBe(aEndpoints.version);
  store.stop();
});

test('a removed service leaves wildcard CDS and falls back to an empty assignment', () => {
  const store = createSnapshotStore({ logger: silentLogger });
  const u1 = applyEvents(emptyCatalog, [upsert('a', 1)]);
  store.update(u1.catalog, u1.changed);
  store.flush();
  expect([...store.current().wildcardNames(TypeUrl.Cluster)]).toEqual(['a']);
  const u2 = applyEvents(u1.catalog, [{ type: 'remove', key: makeInstance('a', 1).key, revision: 2 }]);
  store.update(u2.catalog, u2.changed);
  store.flush();
  expect([...store.current().wildcardNames(TypeUrl.Cluster)]).toEqual([]);
  expect(store.current().get(TypeUrl.ClusterLoadAssignment, 'a')?.name).toBe('a');
  store.stop();
});

test('the maximum delay bounds the wait while changes keep arriving', async () => {
  const store = createSnapshotStore({ logger: silentLogger, debounceMs: 20, maxDelayMs: 40 });
  let builds = 0;
  store.subscribe(() => builds++);
  let catalog = emptyCatalog;
  const start = Date.now();
  while (builds === 0 && Date.now() - start < 1000) {
    const u = applyEvents(catalog, [upsert('a', 1 + (Date.now() % 1000))]);
    catalog = u.catalog;
    store.update(catalog, u.changed);
    await Bun.sleep(5);
  }
  expect(builds).toBe(1);
  expect(Date.now() - start).toBeLessThan(200);
  store.stop();
});

test('Envoy view: wildcard LDS is the outbound listener; its route changes only when services come or go', () => {
  const store = createSnapshotStore({ logger: silentLogger, envoyListener: { address: '0.0.0.0', port: 15009 } });
  const seen: ResourceChanges[] = [];
  store.subscribe((_s, c) => seen.push(c));
  expect([...store.current().wildcardNames(TypeUrl.Listener)]).toEqual([OUTBOUND]);
  const listener = decodeMessage(TypeUrl.Listener, store.current().get(TypeUrl.Listener, OUTBOUND)!.bytes);
  expect(listener.address).toEqual({ socket_address: { address: '0.0.0.0', port_value: 15009 } });
  const vhosts = () =>
    (decodeMessage(TypeUrl.RouteConfiguration, store.current().get(TypeUrl.RouteConfiguration, OUTBOUND)!.bytes).virtual_hosts as { name: string }[]).map((v) => v.name);
  expect(vhosts()).toEqual(['switchyard/unknown-host']);

  const u1 = applyEvents(emptyCatalog, [upsert('b', 1), upsert('a', 1)]);
  store.update(u1.catalog, u1.changed);
  store.flush();
  expect(vhosts()).toEqual(['a', 'b', 'switchyard/unknown-host']);
  expect(seen.at(-1)!.get(TypeUrl.RouteConfiguration)?.has(OUTBOUND)).toBe(true);

  const u2 = applyEvents(u1.catalog, [upsert('a', 2)]);
  store.update(u2.catalog, u2.changed);
  store.flush();
  // Only the endpoints changed: unchanged listener, route and cluster bytes are not reported.
  expect([...seen.at(-1)!.keys()]).toEqual([TypeUrl.ClusterLoadAssignment]);
  store.stop();
});

test('a service whose resources fail validation is not published; its last valid resources stay', () => {
  const logs: string[] = [];
  const logger = { ...silentLogger, error: (msg: string, f?: object) => logs.push(`${msg} ${JSON.stringify(f)}`) };
  let breakIt = false;
  const store = createSnapshotStore({
    logger,
    encode: (name, instances) => {
      const built = encodeService(name, instances);
      if (!breakIt) return built;
      // A cluster with a zero connect timeout violates Envoy's `duration.gt` rule.
      return [encodeResource({ typeUrl: TypeUrl.Cluster, name, message: { name, type: 'EDS', connect_timeout: { seconds: 0 } } })];
    },
  });
  const u1 = applyEvents(emptyCatalog, [upsert('a', 1)]);
  store.update(u1.catalog, u1.changed);
  store.flush();
  const good = store.current().get(TypeUrl.Cluster, 'a');
  breakIt = true;
  const u2 = applyEvents(u1.catalog, [upsert('a', 2)]);
  store.update(u2.catalog, u2.changed);
  store.flush();
  expect(store.current().get(TypeUrl.Cluster, 'a')).toBe(good!);
  expect(store.stats().encodeFailures).toBe(1);
  expect(logs).toEqual([expect.stringContaining('Cluster \\"a\\" failed validation')]);
  expect(logs[0]).toContain('connect_timeout [duration.gt]');
  store.stop();
});

test('a route policy adds subset clusters and assignments and changes the routes, for gRPC and Envoy', () => {
  const store = createSnapshotStore({ logger: silentLogger });
  const seen: ResourceChanges[] = [];
  store.subscribe((_s, c) => seen.push(c));
  const v1 = makeInstance('a', 1, { version: 'v1' });
  const v2 = makeInstance('a', 2, { version: 'v2' });
  const u1 = applyEvents(emptyCatalog, [{ type: 'upsert', instance: v1 }, { type: 'upsert', instance: v2 }]);
  store.update(u1.catalog, u1.changed);
  store.flush();
  const parsed = parseRoutePolicyValue(JSON.stringify({ subsets: { v1: { version: 'v1' }, v2: { version: 'v2' } }, routes: [{ split: { v1: 90, v2: 10 } }] }));
  if (!parsed.ok) throw new Error(parsed.errors.join());
  const u2 = applyEvents(u1.catalog, [{ type: 'policy', key: '/switchyard/routes/a', service: 'a', policy: parsed.value, revision: 3 }]);
  store.update(u2.catalog, u2.changed);
  store.flush();

  const changes = seen.at(-1)!;
  expect([...changes.get(TypeUrl.Cluster)!].sort()).toEqual(['a/v1', 'a/v2']);
  expect([...changes.get(TypeUrl.ClusterLoadAssignment)!].sort()).toEqual(['a/v1', 'a/v2']);
  expect([...changes.get(TypeUrl.RouteConfiguration)!].sort()).toEqual(['a', OUTBOUND]);
  const ports = (name: string) =>
    ((decodeMessage(TypeUrl.ClusterLoadAssignment, store.current().get(TypeUrl.ClusterLoadAssignment, name)!.bytes).endpoints ?? []) as {
      lb_endpoints: { endpoint: { address: { socket_address: { port_value: number } } } }[];
    }[]).flatMap((l) => l.lb_endpoints.map((e) => e.endpoint.address.socket_address.port_value));
  expect(ports('a/v1')).toEqual([1]);
  expect(ports('a/v2')).toEqual([2]);
  const route = decodeMessage(TypeUrl.RouteConfiguration, store.current().get(TypeUrl.RouteConfiguration, 'a')!.bytes) as {
    virtual_hosts: { routes: { route: { weighted_clusters: { clusters: { name: string; weight: { value: number } }[] } } }[] }[];
  };
  expect(route.virtual_hosts[0]!.routes[0]!.route.weighted_clusters.clusters).toEqual([
    { name: 'a/v1', weight: { value: 90 } },
    { name: 'a/v2', weight: { value: 10 } },
  ]);
  expect([...store.current().wildcardNames(TypeUrl.Cluster)].sort()).toEqual(['a', 'a/v1', 'a/v2']);
  store.stop();
});

describe('cold start (a first build above deferAbove)', () => {
  const counting = (fail: (name: string) => boolean = () => false) => {
    const encoded: string[] = [];
    const encode: ServiceEncoder = (name, instances, policy) => {
      encoded.push(name);
      if (fail(name)) throw new Error(`cannot encode ${name}`);
      return encodeService(name, instances, policy);
    };
    return { encoded, encode };
  };
  const names = Array.from({ length: 50 }, (_, i) => `s${i}`);
  const catalog = applyEvents(emptyCatalog, names.map((n) => upsert(n, 1))).catalog;
  const eager = new Map(names.map((n) => [n, encodeService(n, [makeInstance(n, 1)])]));

  test('serves every service at once, encoding one when first asked for and the rest in the background', async () => {
    const { encoded, encode } = counting();
    const store = createSnapshotStore({ logger: silentLogger, encode, deferAbove: 10 });
    store.update(catalog, names);
    store.flush();
    expect(encoded).toEqual([]);
    expect(store.current().get(TypeUrl.Listener, 's7')!.bytes).toEqual(eager.get('s7')![0]!.bytes);
    expect(encoded).toEqual(['s7']);
    const vhosts = decodeMessage(TypeUrl.RouteConfiguration, store.current().get(TypeUrl.RouteConfiguration, OUTBOUND)!.bytes).virtual_hosts;
    expect(vhosts).toHaveLength(51);

    await waitFor(() => encoded.length === names.length, { message: 'background encoding' });
    await Bun.sleep(1);
    expect(encoded.filter((n) => n === 's7')).toHaveLength(1);
    const all = [...eager.values()].flat();
    for (const typeUrl of [TypeUrl.Listener, TypeUrl.Cluster, TypeUrl.ClusterLoadAssignment]) {
      const served = [...store.current().resources(typeUrl)].filter((r) => r.name !== OUTBOUND).map((r) => [r.name, r.version]).sort();
      expect(served).toEqual(all.filter((r) => r.typeUrl === typeUrl).map((r) => [r.name, r.version]).sort());
    }
    expect(encoded).toHaveLength(names.length);
    store.stop();
  });

  test('a change to a service not encoded yet is published and reported like any other', () => {
    const { encode } = counting();
    const store = createSnapshotStore({ logger: silentLogger, encode, deferAbove: 10 });
    const seen: ResourceChanges[] = [];
    store.subscribe((_s, c) => seen.push(c));
    store.update(catalog, names);
    store.flush();
    const u = applyEvents(catalog, [upsert('s3', 2)]);
    store.update(u.catalog, u.changed);
    store.flush();
    expect([...seen.at(-1)!.get(TypeUrl.ClusterLoadAssignment)!]).toEqual(['s3']);
    expect(store.current().get(TypeUrl.ClusterLoadAssignment, 's3')!.version).toBe(encodeService('s3', [makeInstance('s3', 1), makeInstance('s3', 2)])[3]!.version);
    expect([...store.current().wildcardNames(TypeUrl.Cluster)].sort()).toEqual([...names].sort());
    store.stop();
  });

  test('a deferred service that fails to encode is counted, logged and not served', async () => {
    const logs: string[] = [];
    const logger = { ...silentLogger, error: (msg: string, f?: object) => logs.push(`${msg} ${JSON.stringify(f)}`) };
    const { encoded, encode } = counting((n) => n === 's9');
    const store = createSnapshotStore({ logger, encode, deferAbove: 10 });
    store.update(catalog, names);
    store.flush();
    await waitFor(() => encoded.length === names.length, { message: 'background encoding' });
    expect(store.stats().encodeFailures).toBe(1);
    expect(logs).toEqual([expect.stringContaining('cannot encode s9')]);
    expect([...store.current().wildcardNames(TypeUrl.Cluster)]).not.toContain('s9');
    store.stop();
  });

  test('a hold keeps the background encoding from starting until it is released; serving goes on meanwhile', async () => {
    const { encoded, encode } = counting();
    const store = createSnapshotStore({ logger: silentLogger, encode, deferAbove: 10 });
    const release = store.holdBackground();
    store.update(catalog, names);
    store.flush();
    await Bun.sleep(20);
    expect(encoded).toEqual([]);
    expect(store.current().get(TypeUrl.Cluster, 's4')).toBeDefined();
    expect(encoded).toEqual(['s4']);
    release();
    release();
    await waitFor(() => store.stats().deferred === 0, { message: 'background encoding after the release' });
    expect(encoded).toHaveLength(names.length);
    store.stop();
  });
});

test('the sidecar route lists only services already published, so it never names a cluster not sent yet', async () => {
  const store = createSnapshotStore({ logger: silentLogger, debounceMs: 100, maxDelayMs: 5_000 });
  const vhosts = () =>
    (decodeMessage(TypeUrl.RouteConfiguration, store.current().get(TypeUrl.RouteConfiguration, OUTBOUND)!.bytes).virtual_hosts as { name: string }[])
      .map((v) => v.name)
      .filter((n) => n !== 'switchyard/unknown-host');
  const u1 = applyEvents(emptyCatalog, [upsert('a', 1), upsert('c', 1)]);
  store.update(u1.catalog, u1.changed);
  store.flush();
  expect(vhosts()).toEqual(['a', 'c']);
  const published: { routes: string[]; clusters: string[] }[] = [];
  store.subscribe((snapshot) => published.push({ routes: vhosts(), clusters: [...snapshot.wildcardNames(TypeUrl.Cluster)].sort() }));
  const u2 = applyEvents(u1.catalog, [{ type: 'remove', key: makeInstance('c', 1).key, revision: 3 }, upsert('b', 1)]);
  store.update(u2.catalog, ['c']);
  // b keeps changing, so it stays pending while c falls due
  const flapping = setInterval(() => store.update(u2.catalog, ['b']), 10);
  await waitFor(() => published.length === 1, { message: 'c to be built', intervalMs: 5 });
  clearInterval(flapping);
  await waitFor(() => published.length === 2, { message: 'b to be built once quiet' });
  // c falls due first: the route loses c but does not gain b, whose cluster is not published yet
  expect(published).toEqual([
    { routes: ['a'], clusters: ['a'] },
    { routes: ['a', 'b'], clusters: ['a', 'b'] },
  ]);
  store.stop();
});
