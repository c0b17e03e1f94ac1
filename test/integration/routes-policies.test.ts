// Route policies from etcd (issue 4), end to end: instances leased in a real etcd with versions and tags, a policy
// at /switchyard/routes/greeter, Switchyard serving ADS, and a real grpc-js-xds client process dialing
// `xds:///greeter`. The split, the header route and the rejection of invalid policies are measured on real calls.
import { expect, test } from 'bun:test';
import type { Etcd3 } from 'etcd3';
import { TypeUrl } from '../../src/xds/type-urls.ts';
import { instanceKey } from '../fixtures/registrations.ts';
import { answered as ids, callSpread, percentOf as percentWhere, totalOf as total } from '../harness/calls.ts';
import { startEtcd } from '../harness/etcd.ts';
import { startGreeters } from '../harness/greeters.ts';
import { registerInstance, type Registration } from '../harness/registrations.ts';
import { startSwitchyardOn, type TestSwitchyard } from '../harness/switchyard.ts';
import { waitFor } from '../harness/wait-for.ts';
import { startXdsClient, type XdsClient } from '../harness/xds-client.ts';

const TARGET = 'xds:///greeter';
const POLICY_KEY = '/switchyard/routes/greeter';
const PROPAGATION_BUDGET_MS = 2000;
/**
 * ±3 points (the tolerance) over 4,000 calls, more than the 2,000: grpc-js picks weighted
 * clusters at random, and at 50/50 ±3 points is 2.7 σ over 2,000 calls (~0.7% of runs would miss by chance)
 * but 3.8 σ over 4,000.
 */
const SPLIT_CALLS = 4000;
const SPLIT_TOLERANCE = 3;
/** A batch of ~200 calls is "at 50/50" within ±10 points: 2.8 σ at 50/50, > 14 σ away from 90/10's 10%. */
const BATCH = 200;
const BATCH_TOLERANCE = 10;

const putPolicy = (client: Etcd3, policy: unknown) => client.put(POLICY_KEY).value(typeof policy === 'string' ? policy : JSON.stringify(policy));

/** Registers each greeter under a lease with its own registration value. */
async function registerValues(client: Etcd3, entries: readonly { address: string; value: object }[]) {
  const regs: Registration[] = await Promise.all(entries.map((e) => registerInstance(client, instanceKey(e.address), { value: JSON.stringify(e.value) })));
  return Object.assign(regs, {
    [Symbol.asyncDispose]: async () => {
      for (const r of regs) await r[Symbol.asyncDispose]();
    },
  });
}

/** Percentage of the calls answered by instances whose id starts with `group`. */
const percentOf = (counts: Record<string, number>, group: string) => percentWhere(counts, (id) => id.startsWith(group));

/** `count` calls; every one must succeed. */
async function callAll(client: XdsClient, count: number, metadata?: Record<string, string>) {
  const r = await callSpread(client, TARGET, count, { deadlineMs: 2000, ...(metadata && { metadata }) });
  expect(r.failures).toEqual([]);
  expect(total(r.counts)).toBe(count);
  return r.counts;
}

/** RDS versions the client ACKed after `since`. */
const rdsAcksAfter = (sy: TestSwitchyard, client: XdsClient, since: number) =>
  sy.events.of('ack', client.nodeId).filter((e) => e.payload.typeUrl === TypeUrl.RouteConfiguration && e.at >= since);

test('a 90/10 split between v1 and v2 measures 90/10 ±3 over 2,000 calls; a 50/50 put moves it within 2 s, nothing restarted', async () => {
  await using etcd = await startEtcd();
  await using v1 = await startGreeters(2, { idPrefix: 'v1' });
  await using v2 = await startGreeters(2, { idPrefix: 'v2' });
  await using _regs = await registerValues(etcd.client, [
    ...v1.map((g) => ({ address: g.address, value: { version: 'v1' } })),
    ...v2.map((g) => ({ address: g.address, value: { version: 'v2' } })),
  ]);
  const subsets = { v1: { version: 'v1' }, v2: { version: 'v2' } };
  await putPolicy(etcd.client, { subsets, routes: [{ split: { v1: 90, v2: 10 } }] });
  await using sy = await startSwitchyardOn(etcd);
  await using client = await startXdsClient({ runtime: 'node', xdsServer: sy.xdsAddress });

  // Warm-up: every instance of both subsets has answered, so the measurement does not include connection setup.
  await waitFor(async () => ids((await client.call(TARGET, 50, { waitForReady: true, deadlineMs: 5000 })).counts).length === 4, {
    message: 'warm-up calls to reach all four instances',
  });

  const at90 = await callAll(client, SPLIT_CALLS);
  const v2At90 = percentOf(at90, 'v2-');
  expect(ids(at90)).toEqual([...v1, ...v2].map((g) => g.id).sort());

  // The change: a load runs while the policy key is rewritten; its records show when 50/50 took over.
  await client.startLoad(TARGET, { concurrency: 2, deadlineMs: 2000 });
  await waitFor(async () => (await client.loadStats()).total >= BATCH, { message: 'load to get going' });
  const putAt = Date.now();
  await putPolicy(etcd.client, { subsets, routes: [{ split: { v1: 50, v2: 50 } }] });
  // Keep the load going until the calls since the put show 50/50 (the precise time comes from the records below).
  const atPut = await client.loadStats();
  let seen = atPut;
  await waitFor(
    async () => {
      const now = await client.loadStats();
      const delta = Object.fromEntries(Object.entries(now.counts).map(([id, n]) => [id, n - (seen.counts[id] ?? 0)]));
      if (total(delta) < BATCH) return false;
      seen = now;
      return Math.abs(percentOf(delta, 'v2-') - 50) <= BATCH_TOLERANCE;
    },
    { message: 'calls after the put to split 50/50', timeoutMs: 10_000, intervalMs: 50 },
  );
  const records = await client.stopLoad();
  expect(records.filter((r) => r.error !== null)).toEqual([]);

  const after = records.filter((r) => r.t >= putAt);
  let splitAt: number | undefined;
  for (let i = 0; i + BATCH <= after.length && splitAt === undefined; i += BATCH) {
    const batch = after.slice(i, i + BATCH);
    const v2Share = (100 * batch.filter((r) => r.instance?.startsWith('v2-')).length) / BATCH;
    if (Math.abs(v2Share - 50) <= BATCH_TOLERANCE) splitAt = batch[BATCH - 1]!.t;
  }
  expect(splitAt).toBeDefined();
  const switchMs = splitAt! - putAt;
  const ackMs = (rdsAcksAfter(sy, client, putAt)[0]?.at ?? Infinity) - putAt;

  const at50 = await callAll(client, SPLIT_CALLS);
  const v2At50 = percentOf(at50, 'v2-');
  console.log(
    `[split] 90/10 policy: v1 ${(100 - v2At90).toFixed(1)}% / v2 ${v2At90.toFixed(1)}% over ${SPLIT_CALLS} calls; ` +
      `after the 50/50 put: client ACKed RDS in ${ackMs} ms, first ${BATCH}-call batch at 50/50±${BATCH_TOLERANCE} ended ${switchMs} ms after the put ` +
      `(${after.length} load calls observed); 50/50 policy: v1 ${(100 - v2At50).toFixed(1)}% / v2 ${v2At50.toFixed(1)}% over ${SPLIT_CALLS} calls`,
  );

  expect(Math.abs(v2At90 - 10)).toBeLessThanOrEqual(SPLIT_TOLERANCE);
  expect(switchMs).toBeLessThanOrEqual(PROPAGATION_BUDGET_MS);
  expect(Math.abs(v2At50 - 50)).toBeLessThanOrEqual(SPLIT_TOLERANCE);
  expect(ids(at50)).toEqual([...v1, ...v2].map((g) => g.id).sort());
  // Nothing restarted: the client's requests all came on one ADS stream, which never closed.
  expect(new Set(sy.events.of('request', client.nodeId).map((e) => e.payload.streamId)).size).toBe(1);
  expect(sy.events.of('streamOpened')).toHaveLength(1);
  expect(sy.events.of('streamClosed')).toEqual([]);
  expect(sy.events.of('nack')).toEqual([]);
}, 30_000);

test('a header-match route sends calls with x-canary: 1 only to the canary subset; calls without it never go there', async () => {
  await using etcd = await startEtcd();
  await using stable = await startGreeters(2, { idPrefix: 'stable' });
  await using canary = await startGreeters(1, { idPrefix: 'canary' });
  await using _regs = await registerValues(etcd.client, [
    ...stable.map((g) => ({ address: g.address, value: { version: 'v1' } })),
    ...canary.map((g) => ({ address: g.address, value: { version: 'v2', tags: { track: 'canary' } } })),
  ]);
  await putPolicy(etcd.client, {
    subsets: { stable: { version: 'v1' }, canary: { tags: { track: 'canary' } } },
    routes: [{ match: { headers: [{ name: 'x-canary', exact: '1' }] }, to: 'canary' }, { to: 'stable' }],
  });
  await using sy = await startSwitchyardOn(etcd);
  await using client = await startXdsClient({ runtime: 'node', xdsServer: sy.xdsAddress });
  await waitFor(async () => ids((await client.call(TARGET, 20, { waitForReady: true, deadlineMs: 5000 })).counts).length === 2, {
    message: 'warm-up calls to reach both stable instances',
  });

  const withHeader = await callAll(client, 300, { 'x-canary': '1' });
  const without = await callAll(client, 300);
  // Exact match: other values of the header take the default route.
  const otherValue = await callAll(client, 100, { 'x-canary': '0' });
  const prefixOnly = await callAll(client, 100, { 'x-canary': '10' });
  console.log(`[header] x-canary: 1 → ${JSON.stringify(withHeader)}; no header → ${JSON.stringify(without)}; x-canary: 0 → ${JSON.stringify(otherValue)}`);

  expect(withHeader).toEqual({ [canary[0]!.id]: 300 });
  expect(ids(without)).toEqual(stable.map((g) => g.id).sort());
  expect(ids(otherValue)).toEqual(stable.map((g) => g.id).sort());
  expect(ids(prefixOnly)).toEqual(stable.map((g) => g.id).sort());
  expect(canary[0]!.served()).toBe(300);
  expect(sy.events.of('nack')).toEqual([]);
}, 30_000);

test('an invalid policy (weights not summing to 100, unknown subset, bad header matcher) is rejected with the field named and the previous one stays in force; deleting the key restores the default route', async () => {
  await using etcd = await startEtcd();
  await using v1 = await startGreeters(2, { idPrefix: 'v1' });
  await using v2 = await startGreeters(1, { idPrefix: 'v2' });
  await using canary = await startGreeters(1, { idPrefix: 'canary' });
  await using _regs = await registerValues(etcd.client, [
    ...v1.map((g) => ({ address: g.address, value: { version: 'v1' } })),
    ...v2.map((g) => ({ address: g.address, value: { version: 'v2' } })),
    ...canary.map((g) => ({ address: g.address, value: { version: 'v3', tags: { track: 'canary' } } })),
  ]);
  const subsets = { v1: { version: 'v1' }, v2: { version: 'v2' }, canary: { tags: { track: 'canary' } } };
  const canaryRoute = { match: { headers: [{ name: 'x-canary', exact: '1' }] }, to: 'canary' };
  await putPolicy(etcd.client, { subsets, routes: [canaryRoute, { split: { v1: 100 } }] });
  await using sy = await startSwitchyardOn(etcd);
  await using client = await startXdsClient({ runtime: 'node', xdsServer: sy.xdsAddress });
  await waitFor(async () => ids((await client.call(TARGET, 20, { waitForReady: true, deadlineMs: 5000 })).counts).length === 2, {
    message: 'warm-up calls to reach both v1 instances',
  });

  /** The valid policy's routing: without the header only v1, with it only the canary. */
  async function expectValidPolicyInForce() {
    expect(ids(await callAll(client, 100))).toEqual(v1.map((g) => g.id).sort());
    expect(ids(await callAll(client, 50, { 'x-canary': '1' }))).toEqual([canary[0]!.id]);
  }
  await expectValidPolicyInForce();
  const rdsResponses = () => sy.events.of('response', client.nodeId).filter((e) => e.payload.typeUrl === TypeUrl.RouteConfiguration).length;
  const rdsBefore = rdsResponses();
  const validPolicy = sy.catalog().policies.get('greeter');
  expect(validPolicy?.key).toBe(POLICY_KEY);

  const invalid: { what: string; policy: unknown; reason: RegExp }[] = [
    {
      what: 'weights that do not sum to 100',
      policy: { subsets, routes: [canaryRoute, { split: { v1: 50, v2: 45 } }] },
      reason: /routes\[1\]\.split: weights sum to 95, expected 100/,
    },
    {
      what: 'an unknown subset',
      policy: { subsets, routes: [canaryRoute, { split: { v1: 50, v9: 50 } }] },
      reason: /routes\[1\]\.split: unknown subset "v9"; defined: v1, v2, canary/,
    },
    {
      what: 'a bad header matcher (upper-case name)',
      policy: { subsets, routes: [{ match: { headers: [{ name: 'X-Canary', exact: '1' }] }, to: 'v2' }, { to: 'v2' }] },
      reason: /routes\[0\]\.match\.headers\[0\]\.name: "X-Canary" is not a valid header name/,
    },
    {
      what: 'a bad header matcher (two kinds at once)',
      policy: { subsets, routes: [{ match: { headers: [{ name: 'x-canary', exact: '1', prefix: '1' }] }, to: 'v2' }, { to: 'v2' }] },
      reason: /routes\[0\]\.match\.headers\[0\]: set exactly one of "exact", "prefix", "present"; got "exact", "prefix"/,
    },
  ];
  for (const { what, policy, reason } of invalid) {
    const logsBefore = sy.logs.length;
    const { header } = await putPolicy(etcd.client, policy);
    const revision = Number(header.revision);
    await waitFor(() => (sy.catalog().rejected.get(POLICY_KEY)?.revision ?? 0) >= revision, { message: `rejection of ${what}` });
    const rejection = sy.catalog().rejected.get(POLICY_KEY)!;
    console.log(`[invalid policy] ${what}: ${rejection.reason}`);
    expect(rejection.reason).toMatch(reason);
    // The warn line carries the key and the same reason (its fields are JSON after the message).
    const logLine = sy.logs.slice(logsBefore).find((l) => / warn /.test(l) && l.includes(POLICY_KEY));
    expect(logLine).toBeDefined();
    const fields = JSON.parse(logLine!.slice(logLine!.indexOf('{'))) as { key: string; reason: string };
    expect(fields.key).toBe(POLICY_KEY);
    expect(fields.reason).toMatch(reason);
    // The last valid policy is still the catalog's, and still what the client routes by.
    expect(sy.catalog().policies.get('greeter')).toEqual(validPolicy);
    await expectValidPolicyInForce();
    expect(v2[0]!.served()).toBe(0);
  }
  // No route update was pushed for any of them.
  expect(rdsResponses()).toBe(rdsBefore);

  // A valid policy afterwards is applied and clears the rejection.
  await putPolicy(etcd.client, { subsets, routes: [{ to: 'v2' }] });
  await waitFor(async () => ids((await client.call(TARGET, 20)).counts).join() === v2[0]!.id, { message: 'the next valid policy to route to v2' });
  expect(sy.catalog().rejected.has(POLICY_KEY)).toBe(false);
  // Deleting the key returns the service to the default route: every instance, the canary included.
  await etcd.client.delete().key(POLICY_KEY);
  await waitFor(async () => ids((await client.call(TARGET, 40)).counts).length === 4, { message: 'the default route to reach all four instances' });
  expect(sy.catalog().policies.has('greeter')).toBe(false);
  expect(sy.events.of('nack')).toEqual([]);
}, 30_000);
