// Two replicas watching the same etcd serve identical versions (issue 3 "Versions"), so a client that
// reconnects to the other replica sees no spurious change.
import { expect, test } from 'bun:test';
import { TypeUrl } from '../../src/xds/type-urls.ts';
import { openAdsClient, type AdsClient } from '../harness/ads-client.ts';
import { bootEnvoy } from '../harness/conformance-world.ts';
import { startEtcd } from '../harness/etcd.ts';
import { startSwitchyardOn } from '../harness/switchyard.ts';

const { Listener: LDS, RouteConfiguration: RDS, Cluster: CDS, ClusterLoadAssignment: EDS } = TypeUrl;

test('two replicas on one etcd give the same versions, SotW and Delta', async () => {
  await using etcd = await startEtcd();
  await etcd.client.put('/services/a/127.0.0.1:5001').value(JSON.stringify({ weight: 3, zone: 'z1', version: 'v1' }));
  await etcd.client.put('/services/a/[::1]:5002').value(JSON.stringify({ version: 'v2', priority: 1 }));
  await etcd.client.put('/services/b/127.0.0.1:6001').value('');
  await etcd.client
    .put('/switchyard/routes/a')
    .value(JSON.stringify({ subsets: { v1: { version: 'v1' }, v2: { version: 'v2' } }, routes: [{ split: { v1: 80, v2: 20 } }] }));
  await using one = await startSwitchyardOn(etcd);
  await using two = await startSwitchyardOn(etcd);

  const sotwVersions = async (address: string) => {
    await using envoy = openAdsClient({ address, protocol: 'sotw', nodeId: 'same-node' });
    const boot = await bootEnvoy(envoy);
    return [boot.cds, boot.eds, boot.lds, boot.rds].map((r) => [r?.typeUrl, r?.versionInfo, r?.resources.map((x) => x.name)]);
  };
  const one1 = await sotwVersions(one.xdsAddress);
  expect(one1.map(([, , names]) => names)).toEqual([
    ['a', 'a/v1', 'a/v2', 'b'],
    ['a', 'a/v1', 'a/v2', 'b'],
    ['switchyard/outbound'],
    ['switchyard/outbound'],
  ]);
  expect(await sotwVersions(two.xdsAddress)).toEqual(one1);

  const deltaVersions = async (address: string) => {
    await using envoy = openAdsClient({ address, protocol: 'delta', nodeId: 'same-node' });
    await bootEnvoy(envoy);
    const named: AdsClient = envoy;
    named.subscribe(RDS, ['a']);
    named.ack(await named.next(RDS));
    return [CDS, EDS, LDS, RDS].map((t) => [t, [...named.heldVersions(t)].sort()]);
  };
  const d1 = await deltaVersions(one.xdsAddress);
  expect(d1.every(([, held]) => (held as unknown[]).length > 0)).toBe(true);
  expect(await deltaVersions(two.xdsAddress)).toEqual(d1);
}, 30_000);
