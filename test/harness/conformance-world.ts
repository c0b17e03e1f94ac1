/**
 * What the ADS conformance suite (test/integration/conformance.case.ts) runs each scenario in: a fresh
 * Switchyard on a shared real etcd with exactly the given `/services/<svc>/<ip:port>` keys, raw ADS clients
 * on it, etcd writes that return once the Switchyard has built a snapshot at their revision, and Envoy's
 * boot sequence on ADS. Importing it also installs `clusterOverride` (below), a pass-through until set.
 *
 * @example
 *   await using w = await makeWorld(etcd, 'delta', { a: [ep(5001)] });
 *   const envoy = w.client();
 *   const { cds } = await bootEnvoy(envoy);
 *   await w.register('b', ep(5002));
 */
import { mock } from 'bun:test';
import path from 'node:path';
import * as clusterModule from '../../src/xds/resources/cluster.ts';
import { TypeUrl } from '../../src/xds/type-urls.ts';
import { OUTBOUND, type ExpectedEndpoint } from '../fixtures/envoy-resources.ts';
import { openAdsClient, type AdsClient, type AdsClientOptions, type Protocol, type Received } from './ads-client.ts';
import type { TestEtcd } from './etcd.ts';
import { startSwitchyardOn, type TestSwitchyard } from './switchyard.ts';
import { waitFor } from './wait-for.ts';

const { Listener: LDS, RouteConfiguration: RDS, Cluster: CDS, ClusterLoadAssignment: EDS } = TypeUrl;
const PREFIX = '/services/';

// --- a cluster change without an endpoint change ------------------------------------------------------
// A Cluster is a pure function of the service name today, so no registration can change a cluster while
// leaving its endpoints alone. To check the warming rule on the wire (xds-notes §4.1), importing this module
// swaps the cluster builder for one that can be told to set another connect_timeout; everything downstream (version
// folding in encodeService, the store's change set, the sessions, the wire) is the product's. With no
// override the builder is the real one, so other test files in the same process are unaffected.
const realBuildEdsCluster = clusterModule.buildEdsCluster;
export const clusterOverride: { connectTimeoutSeconds: number | undefined } = { connectTimeoutSeconds: undefined };
mock.module(path.resolve(import.meta.dir, '../../src/xds/resources/cluster.ts'), () => ({
  buildEdsCluster: (name: string, edsServiceName?: string) => {
    const built = realBuildEdsCluster(name, edsServiceName);
    const seconds = clusterOverride.connectTimeoutSeconds;
    return seconds === undefined ? built : { ...built, message: { ...built.message, connect_timeout: { seconds } } };
  },
}));

// --- helpers ------------------------------------------------------------------------------------------

export const names = (r: Received) => r.resources.map((x) => x.name);
export const bodies = (r: Received) => Object.fromEntries(r.resources.map((x) => [x.name, x.body]));
/** An endpoint to register: loopback by default, weight left to the default (1) unless given. */
export const ep = (port: number, weight?: number, host = '127.0.0.1'): ExpectedEndpoint => ({ host, port, weight });
const addr = (e: ExpectedEndpoint) => (e.host.includes(':') ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`);
const keyOf = (service: string, e: ExpectedEndpoint) => `${PREFIX}${service}/${addr(e)}`;
const valueOf = (e: ExpectedEndpoint) => (e.weight === undefined ? '' : JSON.stringify({ weight: e.weight }));

export interface World extends AsyncDisposable {
  readonly sy: TestSwitchyard;
  /** A raw ADS client on this Switchyard; closed with the world. Defaults to the suite's protocol. */
  client(options?: Partial<AdsClientOptions>): AdsClient;
  register(service: string, e: ExpectedEndpoint): Promise<void>;
  deregister(service: string, e: ExpectedEndpoint): Promise<void>;
  removeService(service: string): Promise<void>;
  /** Writes several keys in one etcd transaction (one revision, one catalog update). */
  registerAtOnce(entries: readonly [string, ExpectedEndpoint][]): Promise<void>;
}

/**
 * A fresh Switchyard on the shared etcd with exactly `services` registered. Each write helper returns
 * once the Switchyard has built a snapshot at (or past) the write's etcd revision, so a following
 * silence window really covers the change.
 */
export async function makeWorld(
  etcd: TestEtcd,
  protocol: Protocol,
  services: Record<string, readonly ExpectedEndpoint[]>,
  options: Parameters<typeof startSwitchyardOn>[1] = {},
): Promise<World> {
  await etcd.client.delete().prefix(PREFIX);
  for (const [service, endpoints] of Object.entries(services)) {
    for (const e of endpoints) await etcd.client.put(keyOf(service, e)).value(valueOf(e));
  }
  const sy = await startSwitchyardOn(etcd, options);
  const clients: AdsClient[] = [];
  const settled = (revision: string | number) =>
    waitFor(() => sy.snapshots.current().revision >= Number(revision), { message: `a snapshot at etcd revision ${revision}` });
  return {
    sy,
    client(opts = {}) {
      const c = openAdsClient({ address: sy.xdsAddress, protocol, ...opts });
      clients.push(c);
      return c;
    },
    async register(service, e) {
      await settled((await etcd.client.put(keyOf(service, e)).value(valueOf(e))).header.revision);
    },
    async deregister(service, e) {
      await settled((await etcd.client.delete().key(keyOf(service, e))).header.revision);
    },
    async removeService(service) {
      await settled((await etcd.client.delete().prefix(`${PREFIX}${service}/`)).header.revision);
    },
    async registerAtOnce(entries) {
      const puts = entries.map(([s, e]) => etcd.client.put(keyOf(s, e)).value(valueOf(e)));
      const txn = await etcd.client.if('/conformance/never-written', 'Create', '==', 0).then(...puts).commit();
      await settled(txn.header.revision);
    },
    async [Symbol.asyncDispose]() {
      for (const c of clients) c.close();
      await sy.stop();
    },
  };
}

/**
 * Envoy's boot on ADS (xds-notes §4.1): wildcard CDS, EDS for every cluster it got, wildcard LDS, RDS for
 * the listener's route; everything ACKed. Returns what each type first delivered.
 */
export async function bootEnvoy(envoy: AdsClient) {
  envoy.subscribe(CDS, []);
  const cds = await envoy.next(CDS);
  // Envoy asks for the new clusters' endpoints while they warm, before it ACKs CDS.
  envoy.subscribe(EDS, names(cds));
  const eds = names(cds).length > 0 ? await envoy.next(EDS) : undefined;
  envoy.ack(cds);
  if (eds) envoy.ack(eds);
  envoy.subscribe(LDS, []);
  const lds = await envoy.next(LDS);
  envoy.ack(lds);
  envoy.subscribe(RDS, [OUTBOUND]);
  const rds = await envoy.next(RDS);
  envoy.ack(rds);
  return { cds, eds, lds, rds };
}
