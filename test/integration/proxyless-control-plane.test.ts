// Proxyless gRPC while the control plane goes away: the client keeps its last config, and a Switchyard restarted
// on the same port serves it the same versions for unchanged resources and resumes updates (issue 2).
import { expect, test } from 'bun:test';
import { connect } from 'node:net';
import { TypeUrl } from '../../src/xds/type-urls.ts';
import { instanceKey } from '../fixtures/registrations.ts';
import { startEtcd } from '../harness/etcd.ts';
import { startGreeters } from '../harness/greeters.ts';
import { registerAll, registerInstance } from '../harness/registrations.ts';
import { startSwitchyardOn, type TestSwitchyard } from '../harness/switchyard.ts';
import { waitFor } from '../harness/wait-for.ts';
import { startXdsClient, type XdsClient } from '../harness/xds-client.ts';

const TARGET = 'xds:///greeter';
const ALL_TYPES = [TypeUrl.Listener, TypeUrl.RouteConfiguration, TypeUrl.Cluster, TypeUrl.ClusterLoadAssignment] as const;

/** The client ACKed every type on this Switchyard. */
const untilAckedAll = (sy: TestSwitchyard, client: XdsClient, message: string) =>
  waitFor(() => ALL_TYPES.every((t) => sy.events.lastAcks(client.nodeId).has(t)), { message, timeoutMs: 15_000 });

/** Resolves with the number of successful calls once the running load has `n` more of them than now. */
async function untilMoreSuccesses(client: XdsClient, n: number, message: string) {
  const ok = async () => {
    const s = await client.loadStats();
    return s.total - s.errors;
  };
  const start = await ok();
  await waitFor(async () => (await ok()) >= start + n, { message });
}

const refused = (address: string) =>
  new Promise<boolean>((resolve) => {
    const i = address.lastIndexOf(':');
    const socket = connect(Number(address.slice(i + 1)), address.slice(0, i));
    socket.once('connect', () => (socket.destroy(), resolve(false)));
    socket.once('error', () => resolve(true));
  });

test('control plane restart: the client keeps serving, sees the same versions, then resumes updates', async () => {
  await using etcd = await startEtcd();
  await using greeters = await startGreeters(3);
  const [a, b, late] = [greeters[0]!, greeters[1]!, greeters[2]!];
  await using _regs = await registerAll(etcd.client, [a, b].map((g) => instanceKey(g.address)));
  await using first = await startSwitchyardOn(etcd);
  const port = first.xdsAddress.slice(first.xdsAddress.lastIndexOf(':') + 1);
  await using client = await startXdsClient({ runtime: 'node', xdsServer: first.xdsAddress });

  expect(Object.keys((await client.call(TARGET, 20, { waitForReady: true, deadlineMs: 5000 })).counts).sort()).toEqual([a.id, b.id]);
  await untilAckedAll(first, client, 'client to ACK all four types on the first Switchyard');
  const before = first.events.lastResponses(client.nodeId);
  // Fail-fast calls for the whole restart: any call that needed the control plane would fail.
  await client.startLoad(TARGET, { concurrency: 2, deadlineMs: 2000 });

  await first.stop();
  await waitFor(() => first.events.of('streamClosed', client.nodeId).length > 0, { message: 'first ADS stream to close' });
  await untilMoreSuccesses(client, 200, '200 calls to succeed while no control plane runs');

  const restartedAt = Date.now();
  await using second = await startSwitchyardOn(etcd, { xdsListen: `127.0.0.1:${port}` });
  expect(second.xdsAddress).toBe(first.xdsAddress);
  await untilAckedAll(second, client, 'client to reconnect and ACK all four types on the second Switchyard');
  console.log(`[timing] client resynced ${Date.now() - restartedAt} ms after the second Switchyard started`);

  // Same catalog, same content hashes: the client sees no change for any resource.
  const after = second.events.firstResponses(client.nodeId);
  for (const t of ALL_TYPES) expect({ type: t, version: after.get(t) }).toEqual({ type: t, version: before.get(t) });
  // The client resumed from what it held: its first requests on the new stream carry the old versions.
  const resumed = new Map(second.events.of('request', client.nodeId).toReversed().map((e) => [e.payload.typeUrl, e.payload.versionInfo]));
  for (const t of ALL_TYPES) expect({ type: t, version: resumed.get(t) }).toEqual({ type: t, version: before.get(t) });

  await using _late = await registerInstance(etcd.client, instanceKey(late.address));
  await waitFor(async () => ((await client.loadStats()).counts[late.id] ?? 0) > 0, {
    message: 'an instance registered after the restart to receive calls',
  });
  const records = await client.stopLoad();
  expect(records.filter((r) => r.error !== null)).toEqual([]);
  expect(second.events.lastResponses(client.nodeId).get(TypeUrl.ClusterLoadAssignment)).not.toBe(before.get(TypeUrl.ClusterLoadAssignment));
  expect([...first.events.of('nack'), ...second.events.of('nack')]).toEqual([]);
}, 45_000);

test('stop(): the ADS stream ends and the client keeps calling with its last config', async () => {
  await using etcd = await startEtcd();
  await using greeters = await startGreeters(2);
  await using _regs = await registerAll(etcd.client, greeters.map((g) => instanceKey(g.address)));
  await using sy = await startSwitchyardOn(etcd);
  await using client = await startXdsClient({ runtime: 'node', xdsServer: sy.xdsAddress });
  await client.call(TARGET, 10, { waitForReady: true, deadlineMs: 5000 });
  const [opened] = sy.events.of('streamOpened');
  expect(opened).toBeDefined();

  await sy.stop();

  await waitFor(() => sy.events.of('streamClosed').some((e) => e.payload.streamId === opened!.payload.streamId), {
    message: 'streamClosed for the client stream',
  });
  expect(await refused(sy.xdsAddress)).toBe(true);
  const { counts, failures } = await client.call(TARGET, 100, { deadlineMs: 2000 });
  expect(failures).toEqual([]);
  expect(Object.keys(counts).sort()).toEqual(greeters.map((g) => g.id).sort());
  expect(await client.state(TARGET)).toBe('READY');
}, 30_000);
