// A cold start with more than 1,000 services serves before encoding them (DeferredResources): real clients
// get correct config at once, Envoy's wildcard CDS gets every cluster, and once the background encoding is
// done, changes flow as always (issue 5, "Cold start").
import { expect, test } from 'bun:test';
import { TypeUrl } from '../../src/xds/type-urls.ts';
import { instanceKey } from '../fixtures/registrations.ts';
import { openAdsClient } from '../harness/ads-client.ts';
import { bootEnvoy } from '../harness/conformance-world.ts';
import { startEtcd } from '../harness/etcd.ts';
import { startGreeters } from '../harness/greeters.ts';
import { registerInstance } from '../harness/registrations.ts';
import { startSwitchyardOn } from '../harness/switchyard.ts';
import { waitFor } from '../harness/wait-for.ts';
import { startXdsClient } from '../harness/xds-client.ts';

const SERVICES = 1_500;

test('more than 1,000 services: served before they are encoded, then changes flow as usual', async () => {
  await using etcd = await startEtcd();
  const keys = Array.from({ length: SERVICES }, (_, i) => `/services/svc-${String(i).padStart(4, '0')}/127.0.0.1:${20_000 + i}`);
  for (let i = 0; i < keys.length; i += 128) {
    await etcd.client.kv.txn({ success: keys.slice(i, i + 128).map((k) => ({ request_put: { key: Buffer.from(k), value: Buffer.alloc(0) } })) });
  }
  await using greeters = await startGreeters(2);
  const [a, b] = [greeters[0]!, greeters[1]!];
  await using _a = await registerInstance(etcd.client, instanceKey(a.address));

  await using sy = await startSwitchyardOn(etcd);
  expect(sy.catalog().services.size).toBe(SERVICES + 1);
  expect(sy.logs.filter((l) => l.includes('serving before encoding'))).toEqual([expect.stringContaining(`"services":${SERVICES + 2}`)]);

  await using client = await startXdsClient({ runtime: 'node', xdsServer: sy.xdsAddress });
  expect((await client.call('xds:///greeter', 5, { waitForReady: true, deadlineMs: 10_000 })).counts).toEqual({ [a.id]: 5 });

  await using envoy = openAdsClient({ address: sy.xdsAddress, protocol: 'delta', nodeId: 'envoy-cold-start' });
  const { cds, eds } = await bootEnvoy(envoy);
  expect(cds.resources.map((r) => r.name)).toHaveLength(SERVICES + 1);
  expect(eds!.resources.find((r) => r.name === 'svc-0042')?.body).toMatchObject({
    endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: 20_042 } } } }] }],
  });

  await waitFor(() => sy.snapshots.stats().deferred === 0, { message: 'the background encoding to finish', timeoutMs: 20_000 });
  expect(sy.snapshots.stats().encodeFailures).toBe(0);
  await using _b = await registerInstance(etcd.client, instanceKey(b.address));
  await waitFor(async () => Object.keys((await client.call('xds:///greeter', 10)).counts).length === 2, {
    message: 'an instance registered after the background encoding to get calls',
    timeoutMs: 10_000,
  });
  const update = await envoy.next(TypeUrl.ClusterLoadAssignment);
  expect(update.resources.map((r) => r.name)).toEqual(['greeter']);
}, 60_000);
