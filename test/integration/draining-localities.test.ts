// Draining and priority failover (issue 4), end to end: real etcd, greeters registered through the registration SDK
// or under raw leases with zone/priority values, Switchyard serving ADS, and a real grpc-js-xds client process
// dialing `xds:///greeter` under load.
import { expect, test } from 'bun:test';
import { createLogger } from '../../src/lib/logger.ts';
import { createRegistrar } from '../../src/sdk/index.ts';
import { TypeUrl } from '../../src/xds/type-urls.ts';
import { instanceKey } from '../fixtures/registrations.ts';
import { answered, callSpread } from '../harness/calls.ts';
import { startEtcd } from '../harness/etcd.ts';
import { startGreeters } from '../harness/greeters.ts';
import { registerInstance, type Registration as LeasedKey } from '../harness/registrations.ts';
import { startSwitchyardOn } from '../harness/switchyard.ts';
import { waitFor } from '../harness/wait-for.ts';
import { startXdsClient, type CallResult, type LoadRecord } from '../harness/xds-client.ts';

const TARGET = 'xds:///greeter';
const PROPAGATION_BUDGET_MS = 2000;

const lastTo = (records: readonly LoadRecord[], id: string) => Math.max(...records.filter((r) => r.instance === id).map((r) => r.t));
/** Completion time of the first call answered by an instance `pick` selects, among calls completed at `since` or later. */
const firstTo = (records: readonly LoadRecord[], pick: (id: string) => boolean, since = 0) =>
  Math.min(...records.filter((r) => r.t >= since && r.instance !== null && pick(r.instance)).map((r) => r.t));

test('an instance set draining (SDK close) stops getting new calls within 2 s, its in-flight calls complete, and its key is gone after close()', async () => {
  await using etcd = await startEtcd();
  await using greeters = await startGreeters(3);
  const leaving = greeters[0]!;
  const staying = greeters.slice(1);
  const sdkLogs: string[] = [];
  const registrar = createRegistrar({
    etcd: { endpoints: [etcd.endpoint] },
    ttlSeconds: 10,
    logger: createLogger({ level: 'debug', write: (l) => sdkLogs.push(l) }),
  });
  // Disposed before etcd stops; whatever is still registered goes without a grace period.
  await using _registrar = { [Symbol.asyncDispose]: () => registrar.close({ graceMs: 0 }) };
  const regs = await Promise.all(greeters.map((g) => registrar.register({ service: 'greeter', host: g.host, port: g.port })));
  const leavingReg = regs[0]!;
  expect(leavingReg.key).toBe(instanceKey(leaving.address));

  await using sy = await startSwitchyardOn(etcd);
  await using client = await startXdsClient({ runtime: 'node', xdsServer: sy.xdsAddress });
  const edsAcks = () => sy.events.of('ack', client.nodeId).filter((e) => e.payload.typeUrl === TypeUrl.ClusterLoadAssignment);
  await waitFor(async () => answered((await client.call(TARGET, 30, { waitForReady: true, deadlineMs: 5000 })).counts).length === 3, {
    message: 'warm-up calls to reach all three instances',
  });

  await client.startLoad(TARGET, { concurrency: 2, deadlineMs: 2000 });
  await waitFor(async () => answered((await client.loadStats()).counts).length === 3, { message: 'load to reach all three' });

  // Slow calls held by the server (x-delay-ms), until at least two are in flight on the instance about to leave.
  const HOLD_MS = 1500;
  const slow: Promise<CallResult>[] = [];
  await waitFor(
    async () => {
      if (leaving.inFlight() >= 2) return true;
      const inFlight = greeters.reduce((n, g) => n + g.inFlight(), 0);
      slow.push(client.call(TARGET, 1, { delayMs: HOLD_MS, deadlineMs: 10_000 }));
      await waitFor(() => greeters.reduce((n, g) => n + g.inFlight(), 0) > inFlight, { message: 'the slow call to arrive', intervalMs: 2 });
      return leaving.inFlight() >= 2;
    },
    { message: 'two slow calls in flight on the leaving instance', intervalMs: 1 },
  );
  const heldOnLeaving = leaving.inFlight();

  const acksBefore = edsAcks().length;
  const drainAt = Date.now();
  const GRACE_MS = 2500;
  const closing = leavingReg.close({ graceMs: GRACE_MS });
  await waitFor(async () => JSON.parse((await etcd.client.get(leavingReg.key).string()) ?? '{}').draining === true, {
    message: 'the key to be marked draining',
  });
  expect(leavingReg.state).toBe('draining');
  await waitFor(() => edsAcks().length > acksBefore, { message: 'client to ACK the EDS update with the draining instance' });
  const ackedAt = edsAcks().at(-1)!.at;
  // The slow calls were still running on the leaving instance when the client stopped using it.
  const inFlightAtAck = leaving.inFlight();

  await closing;
  const closedAt = Date.now();
  expect(await etcd.client.get(leavingReg.key).string()).toBeNull();
  expect(leavingReg.state).toBe('closed');
  await waitFor(() => !sy.catalog().services.get('greeter')?.instances.some((i) => i.key === leavingReg.key), {
    message: 'the catalog to drop the closed instance',
  });
  // Observe the load a little after the key is gone too.
  const totalAtClose = (await client.loadStats()).total;
  await waitFor(async () => (await client.loadStats()).total >= totalAtClose + 100, { message: '100 more calls after close' });
  const records = await client.stopLoad();
  const slowResults = await Promise.all(slow);

  const lastNew = lastTo(records, leaving.id);
  const drainMs = lastNew - drainAt;
  const slowOnLeaving = slowResults.reduce((n, r) => n + (r.counts[leaving.id] ?? 0), 0);
  console.log(
    `[drain] ${heldOnLeaving} slow calls held on the leaving instance (${inFlightAtAck} still in flight at the client's EDS ACK, ${ackedAt - drainAt} ms after close()); ` +
      `last new call answered by it ${drainMs} ms after close(); key deleted ${closedAt - drainAt} ms after close() (grace ${GRACE_MS} ms); ` +
      `${records.length} load calls, ${records.filter((r) => r.error).length} failed; slow calls: ${slowResults.length} sent, ${slowOnLeaving} answered by the leaving instance`,
  );

  expect(records.filter((r) => r.error !== null)).toEqual([]);
  expect(drainMs).toBeLessThanOrEqual(PROPAGATION_BUDGET_MS);
  // New calls stopped while the key was still there, marked draining: the drain did it, not the delete.
  expect(lastNew).toBeLessThan(closedAt - 100);
  expect(inFlightAtAck).toBeGreaterThanOrEqual(1);
  // Every slow call succeeded, those held on the leaving instance included.
  for (const r of slowResults) expect(r.failures).toEqual([]);
  expect(slowOnLeaving).toBeGreaterThanOrEqual(heldOnLeaving);
  expect(leaving.inFlight()).toBe(0);
  // After the drain the load went on to the two others only.
  expect(new Set(records.filter((r) => r.t > lastNew).map((r) => r.instance))).toEqual(new Set(staying.map((g) => g.id)));
  expect(records.filter((r) => r.t > lastNew).length).toBeGreaterThanOrEqual(100);
  expect(sy.events.of('nack')).toEqual([]);
}, 30_000);

test('zone failover: priority 0 (zone a) takes every call; with it gone priority 1 (zone b) answers; one zone-a instance back takes the traffic again within 2 s', async () => {
  await using etcd = await startEtcd();
  await using zoneA = await startGreeters(2, { idPrefix: 'zone-a' });
  await using zoneB = await startGreeters(2, { idPrefix: 'zone-b' });
  const valueA = JSON.stringify({ region: 'r1', zone: 'a', priority: 0 });
  const valueB = JSON.stringify({ region: 'r1', zone: 'b', priority: 1 });
  const leased: LeasedKey[] = [];
  await using _leases = {
    [Symbol.asyncDispose]: async () => {
      for (const l of leased) await l[Symbol.asyncDispose]();
    },
  };
  const lease = async (address: string, value: string) => {
    const l = await registerInstance(etcd.client, instanceKey(address), { value });
    leased.push(l);
    return l;
  };
  const regsA = await Promise.all(zoneA.map((g) => lease(g.address, valueA)));
  await Promise.all(zoneB.map((g) => lease(g.address, valueB)));

  await using sy = await startSwitchyardOn(etcd);
  await using client = await startXdsClient({ runtime: 'node', xdsServer: sy.xdsAddress });
  const isA = (id: string) => id.startsWith('zone-a-');
  const isB = (id: string) => id.startsWith('zone-b-');

  await waitFor(async () => answered((await client.call(TARGET, 20, { waitForReady: true, deadlineMs: 5000 })).counts).length === 2, {
    message: 'warm-up calls to reach both zone-a instances',
  });
  const before = await callSpread(client, TARGET, 400);
  expect(before.failures).toEqual([]);
  expect(answered(before.counts)).toEqual(zoneA.map((g) => g.id).sort());

  await client.startLoad(TARGET, { concurrency: 2, deadlineMs: 2000 });
  await waitFor(async () => (await client.loadStats()).total >= 100, { message: 'load to get going' });

  // Priority 0 goes away: both zone-a keys are deleted (leases revoked).
  const removedAt = Date.now();
  await Promise.all(regsA.map((r) => r.revoke()));
  await waitFor(async () => Object.keys((await client.loadStats()).counts).some(isB), { message: 'zone b to answer' });
  const onB = await client.loadStats();
  await waitFor(async () => (await client.loadStats()).total >= onB.total + 300, { message: '300 calls while only zone b is registered' });

  // One zone-a instance comes back at priority 0.
  const back = zoneA[0]!;
  const beforeReturn = await client.loadStats();
  const returnedAt = Date.now();
  await lease(back.address, valueA);
  await waitFor(async () => ((await client.loadStats()).counts[back.id] ?? 0) > 0, { message: 'the returning zone-a instance to answer' });
  const onA = await client.loadStats();
  await waitFor(async () => (await client.loadStats()).total >= onA.total + 300, { message: '300 calls after zone a came back' });
  const records = await client.stopLoad();

  const firstB = firstTo(records, isB, removedAt);
  const failoverMs = firstB - removedAt;
  const lastAOnP0 = Math.max(...records.filter((r) => r.t < returnedAt && r.instance !== null && isA(r.instance)).map((r) => r.t));
  const firstBack = firstTo(records, (id) => id === back.id, returnedAt);
  const returnMs = firstBack - returnedAt;
  const failed = records.filter((r) => r.error !== null);
  // By position, not time (records are in completion order and times are whole ms): the calls completed
  // between seeing zone b answer and the return, and those after seeing the returning instance answer.
  const whileB = records.slice(onB.total, beforeReturn.total);
  const afterBack = records.slice(onA.total);
  console.log(
    `[failover] zone a removed: zone b first answered ${failoverMs} ms after the revoke (last zone-a answer ${lastAOnP0 - removedAt} ms after it); ` +
      `zone-a instance back: first answered ${returnMs} ms after the put; ${records.length} load calls, ${failed.length} failed` +
      (failed.length ? ` (${JSON.stringify(failed.slice(0, 3))})` : '') +
      `; after its return ${afterBack.filter((r) => r.instance === back.id).length}/${afterBack.length} calls to it`,
  );

  expect(failed).toEqual([]);
  expect(failoverMs).toBeLessThanOrEqual(PROPAGATION_BUDGET_MS);
  expect(new Set(whileB.map((r) => r.instance))).toEqual(new Set(zoneB.map((g) => g.id)));
  expect(returnMs).toBeLessThanOrEqual(PROPAGATION_BUDGET_MS);
  // Traffic returned: once the returning instance answered, zone b gets at most the stragglers of the
  // switch (calls in flight, a picker still settling), and the last 200 calls all go to the returning one.
  expect(afterBack.filter((r) => r.instance !== back.id).length).toBeLessThanOrEqual(10);
  expect(afterBack.slice(-200).filter((r) => r.instance !== back.id)).toEqual([]);
  expect(sy.events.of('nack')).toEqual([]);
}, 30_000);
