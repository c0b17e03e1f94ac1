// A malformed registration next to good ones (issue 2): the good instances keep serving, and the bad key is
// visible in the catalog, the rejection counter and the log, each time with its reason.
import { expect, test } from 'bun:test';
import { instanceKey, malformedKeys } from '../fixtures/registrations.ts';
import { startEtcd } from '../harness/etcd.ts';
import { startGreeters } from '../harness/greeters.ts';
import { registerAll, registerInstance } from '../harness/registrations.ts';
import { startSwitchyardOn } from '../harness/switchyard.ts';
import { waitFor } from '../harness/wait-for.ts';
import { startXdsClient } from '../harness/xds-client.ts';

const TARGET = 'xds:///greeter';

test('malformed keys are rejected with a reason (catalog, counter, log) and the good instances serve', async () => {
  await using etcd = await startEtcd();
  await using greeters = await startGreeters(3);
  const [a, b, c] = [greeters[0]!, greeters[1]!, greeters[2]!];
  // Half the bad keys are there at the initial list, half arrive through the watch.
  const atList = malformedKeys.slice(0, 2);
  const viaWatch = malformedKeys.slice(2);
  await using _good = await registerAll(etcd.client, [instanceKey(a.address), ...atList.map((m) => m.key), instanceKey(b.address)]);
  await using sy = await startSwitchyardOn(etcd);
  await using _bad = await registerAll(etcd.client, viaWatch.map((m) => m.key));
  // A good key after the bad ones still flows.
  await using _c = await registerInstance(etcd.client, instanceKey(c.address));
  await waitFor(() => sy.catalog().rejected.size === malformedKeys.length && sy.catalog().services.get('greeter')?.instances.length === 3, {
    message: 'catalog to hold three instances and every malformed key',
  });

  await using client = await startXdsClient({ runtime: 'node', xdsServer: sy.xdsAddress });
  const { counts, failures } = await client.call(TARGET, 60, { waitForReady: true, deadlineMs: 5000 });
  expect(failures).toEqual([]);
  expect(Object.keys(counts).sort()).toEqual([a.id, b.id, c.id].sort());

  const { services, rejected } = sy.catalog();
  expect([...services.keys()]).toEqual(['greeter']);
  expect(services.get('greeter')!.instances.map((i) => i.port).sort()).toEqual([a.port, b.port, c.port].sort());
  expect(sy.registryStats().rejectedTotal).toBe(malformedKeys.length);
  for (const { key, reason } of malformedKeys) {
    const rejection = rejected.get(key);
    expect({ key, reason: rejection?.reason }).toEqual({ key, reason: expect.stringMatching(reason) });
    // The log line names the key and carries the same reason.
    const line = sy.logs.find((l) => l.includes(JSON.stringify(key)) && l.includes(JSON.stringify(rejection!.reason)));
    expect({ key, line }).toEqual({ key, line: expect.stringContaining('rejected registration') });
  }
  expect(sy.events.of('nack')).toEqual([]);
}, 30_000);
