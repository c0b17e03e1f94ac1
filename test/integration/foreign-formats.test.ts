// Registration formats used in the wild (issue 4), end to end: keys written the way each framework writes them
// (etcd-notes §1), under leases in a real etcd, with real greeters behind them; Switchyard watches the format's
// prefix (createSwitchyard `sources`) and a real grpc-js-xds client calls `xds:///<service>`.
import { expect, test } from 'bun:test';
import { FORMATS, type FormatName } from '../../src/registry/formats/index.ts';
import { answered, callSpread } from '../harness/calls.ts';
import { startEtcd } from '../harness/etcd.ts';
import { startGreeters } from '../harness/greeters.ts';
import { registerInstance } from '../harness/registrations.ts';
import { startSwitchyardOn } from '../harness/switchyard.ts';
import { waitFor } from '../harness/wait-for.ts';
import { startXdsClient } from '../harness/xds-client.ts';

interface Instance {
  readonly host: string;
  readonly port: number;
  readonly address: string;
  /** 0, 1, ... within the service. */
  readonly index: number;
}

interface FormatCase {
  readonly format: Exclude<FormatName, 'switchyard'>;
  /** The prefix Switchyard watches for it. */
  readonly prefix: string;
  /** Lowercase: Switchyard service names are. */
  readonly service: string;
  /** The key and value one instance registers, as the framework writes them. */
  readonly entry: (i: Instance) => { key: string; value: string };
  /** Keys the framework writes besides the instances (placeholders), not leased. */
  readonly extra?: readonly { key: string; value: string }[];
}

const CASES: readonly FormatCase[] = [
  {
    // etcd's endpoints manager for target `services/naming-greeter`: AddEndpoint(ctx, target + "/" + addr, {Addr}).
    format: 'etcd-naming',
    prefix: 'services/',
    service: 'naming-greeter',
    entry: (i) => ({ key: `services/naming-greeter/${i.address}`, value: JSON.stringify({ Op: 0, Addr: i.address, Metadata: null }) }),
  },
  {
    // kratos contrib/registry/etcd: /microservices/<name>/<id> = ServiceInstance JSON; the grpc:// endpoint is dialed.
    format: 'kratos',
    prefix: '/microservices/',
    service: 'kratos-greeter',
    entry: (i) => ({
      key: `/microservices/kratos-greeter/kratos-greeter-${i.index}`,
      value: JSON.stringify({
        id: `kratos-greeter-${i.index}`,
        name: 'kratos-greeter',
        version: 'v1.0.0',
        metadata: { weight: '10', zone: 'az1' },
        endpoints: [`http://${i.host}:1`, `grpc://${i.address}`],
      }),
    }),
  },
  {
    // go-zero core/discov: <Etcd.Key>/<lease id> = ip:port, no leading '/', so the prefix is ''.
    format: 'go-zero',
    prefix: '',
    service: 'greeter.rpc',
    entry: (i) => ({ key: `greeter.rpc/758786952041906125${i.index}`, value: i.address }),
  },
  {
    // kitex-contrib/registry-etcd: kitex/registry-etcd/<svc>/<ip:port> = instanceInfo JSON.
    format: 'kitex',
    prefix: 'kitex/registry-etcd/',
    service: 'kitex-greeter',
    entry: (i) => ({
      key: `kitex/registry-etcd/kitex-greeter/${i.address}`,
      value: JSON.stringify({ network: 'tcp', address: i.address, weight: 10, tags: { idc: 'hz1' } }),
    }),
  },
  {
    // rpcx-etcd: <BasePath>/<svc>/tcp@<ip:port> = URL-encoded metadata, plus the plugin's directory placeholders.
    format: 'rpcx',
    prefix: '/rpcx_test/',
    service: 'rpcx-greeter',
    entry: (i) => ({ key: `/rpcx_test/rpcx-greeter/tcp@${i.address}`, value: 'group=&weight=10&calls=0' }),
    extra: [
      { key: '/rpcx_test', value: 'rpcx_path' },
      { key: '/rpcx_test/rpcx-greeter', value: 'rpcx-greeter' },
    ],
  },
];

for (const c of CASES) {
  test(`${c.format}: instances registered under ${JSON.stringify(c.prefix)} are callable through xds:///${c.service}`, async () => {
    await using etcd = await startEtcd();
    await using greeters = await startGreeters(2, { idPrefix: c.format });
    for (const e of c.extra ?? []) await etcd.client.put(e.key).value(e.value);
    const entries = greeters.map((g, index) => c.entry({ host: g.host, port: g.port, address: g.address, index }));
    const leases = await Promise.all(entries.map((e) => registerInstance(etcd.client, e.key, { value: e.value })));
    await using _leases = { [Symbol.asyncDispose]: async () => void (await Promise.all(leases.map((l) => l[Symbol.asyncDispose]()))) };
    await using sy = await startSwitchyardOn(etcd, { sources: [{ prefix: c.prefix, format: FORMATS[c.format] }] });
    await using client = await startXdsClient({ runtime: 'node', xdsServer: sy.xdsAddress });

    const target = `xds:///${c.service}`;
    await waitFor(async () => answered((await client.call(target, 10, { waitForReady: true, deadlineMs: 5000 })).counts).length === 2, {
      message: `calls to ${target} to reach both instances`,
    });
    const { counts, failures } = await callSpread(client, target, 200);
    console.log(`[${c.format}] ${target}: ${JSON.stringify(counts)}`);

    expect(failures).toEqual([]);
    expect(answered(counts)).toEqual(greeters.map((g) => g.id).sort());
    for (const g of greeters) expect(counts[g.id]).toBeGreaterThanOrEqual(50);
    expect([...sy.catalog().services.keys()]).toEqual([c.service]);
    expect([...sy.catalog().rejected.values()]).toEqual([]);

    // Deregistering (the lease going away, as when the process stops) takes the instance out of the calls.
    await leases[0]!.revoke();
    await waitFor(async () => answered((await client.call(target, 20)).counts).join() === greeters[1]!.id, {
      message: `calls to ${target} to reach only the remaining instance`,
    });
    expect(sy.events.of('nack')).toEqual([]);
  }, 30_000);
}
