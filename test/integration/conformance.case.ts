/**
 * The ADS conformance suite, run once per protocol (Hono `router/common.case.test.ts` style): a real etcd
 * with `/services/<svc>/<ip:port>` keys, a real Switchyard, and raw ADS streams from
 * `test/harness/ads-client.ts` that behave as Envoy does. Every scenario states the rule it checks
 * (xds-notes §1 protocol, §4.1 Envoy warming/ordering); where the protocols differ (SotW carries the full
 * state of LDS/CDS, Delta carries changes and `removed_resources`) the scenario says both.
 *
 * Every response is decoded into the Envoy types by the client (and must re-encode to the same bytes);
 * scenarios compare whole decoded resources with `test/fixtures/envoy-resources.ts`.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { parseRoutePolicyValue } from '../../src/catalog/route-policy.ts';
import { TypeUrl } from '../../src/xds/type-urls.ts';
import {
  expectedApiListener,
  expectedCluster,
  expectedLoadAssignment,
  expectedOutboundListener,
  expectedOutboundRoute,
  expectedServiceRoute,
  OUTBOUND,
  type ExpectedEndpoint,
} from '../fixtures/envoy-resources.ts';
import type { Decoded, Protocol, Received } from '../harness/ads-client.ts';
import { bodies, bootEnvoy, clusterOverride, ep, makeWorld, names } from '../harness/conformance-world.ts';
import { startEtcd, type TestEtcd } from '../harness/etcd.ts';
import type { startSwitchyardOn } from '../harness/switchyard.ts';
import { waitFor } from '../harness/wait-for.ts';

const { Listener: LDS, RouteConfiguration: RDS, Cluster: CDS, ClusterLoadAssignment: EDS } = TypeUrl;
/** Silence windows: long enough for a push to arrive on loopback, short enough for the time budget. */
const QUIET_MS = 300;
/** Per test: each starts its own Switchyard and streams on the shared etcd. */
const TEST_TIMEOUT_MS = 15_000;

// --- the suite ----------------------------------------------------------------------------------------

export function runConformance({ protocol }: { protocol: Protocol }): void {
  describe(`ADS conformance over ${protocol === 'sotw' ? 'SotW (StreamAggregatedResources)' : 'Delta (DeltaAggregatedResources)'}`, () => {
    let etcd: TestEtcd;
    beforeAll(async () => {
      etcd = await startEtcd();
    });
    afterAll(async () => {
      await etcd?.[Symbol.asyncDispose]();
    });
    const world = (services: Record<string, readonly ExpectedEndpoint[]>, options?: Parameters<typeof startSwitchyardOn>[1]) =>
      makeWorld(etcd, protocol, services, options);
    const isSotw = protocol === 'sotw';

    test('wildcard LDS gives only the outbound listener, wildcard CDS every cluster; RDS and EDS by name (whole resources)', async () => {
      await using w = await world(
        { a: [ep(5001), ep(5002)], b: [ep(5003, 3, '::1')] },
        { envoyListener: { address: '127.0.0.1', port: 15555 } },
      );
      const envoy = w.client();
      const { cds, eds, lds, rds } = await bootEnvoy(envoy);

      expect(bodies(cds)).toEqual({ a: expectedCluster('a'), b: expectedCluster('b') });
      expect(bodies(eds!)).toEqual({
        a: expectedLoadAssignment('a', [ep(5001), ep(5002)]),
        b: expectedLoadAssignment('b', [ep(5003, 3, '::1')]),
      });
      // The API listeners `a` and `b` exist for proxyless clients; Envoy would reject them over LDS.
      expect(bodies(lds)).toEqual({ [OUTBOUND]: expectedOutboundListener({ address: '127.0.0.1', port: 15555 }) });
      expect(bodies(rds)).toEqual({ [OUTBOUND]: expectedOutboundRoute(['a', 'b']) });
      for (const r of [cds, eds!, lds, rds]) {
        expect(r.nonce).not.toBe('');
        expect(r.controlPlane).toMatch(/^switchyard@/);
        if (isSotw) expect(r.versionInfo).not.toBe('');
        else expect(r.resources.every((x) => (x.version ?? '').length > 0)).toBe(true);
      }
      // Everything ACKed and nothing changed: nothing more is sent.
      await envoy.expectNoResponse(QUIET_MS);

      // The explicit wildcard name selects the same set.
      const star = w.client();
      star.subscribe(CDS, ['*']);
      expect(names(await star.next(CDS)).sort()).toEqual(['a', 'b']);
      expect(w.sy.events.of('nack')).toEqual([]);
    }, TEST_TIMEOUT_MS);

    test('named subscription (gRPC style) gets exactly the named chain; a valid unregistered name gets an empty assignment, then its endpoints', async () => {
      await using w = await world({ a: [ep(5001)], b: [ep(5002)] });
      const grpc = w.client({ userAgentName: 'gRPC Node Pure JS' });
      const expected: [string, Record<string, Decoded>][] = [
        [LDS, { a: expectedApiListener('a') }],
        [RDS, { a: expectedServiceRoute('a') }],
        [CDS, { a: expectedCluster('a') }],
        [EDS, { a: expectedLoadAssignment('a', [ep(5001)]) }],
      ];
      // gRPC walks the chain: each type is asked for once its parent arrived (xds-notes §1.10).
      for (const [typeUrl, resources] of expected) {
        grpc.subscribe(typeUrl, ['a']);
        const r = await grpc.next(typeUrl);
        expect({ typeUrl, resources: bodies(r) }).toEqual({ typeUrl, resources });
        grpc.ack(r);
      }
      await grpc.expectNoResponse(QUIET_MS);

      // Unregistered but valid: an empty assignment now (never silence, xds-notes §1.9) ...
      grpc.subscribe(EDS, ['later']);
      const empty = await grpc.next(EDS);
      expect(bodies(empty)).toEqual({ later: expectedLoadAssignment('later', []) });
      grpc.ack(empty);
      // ... and its endpoints once it springs into existence (XDSP "must remember the set requested").
      await w.register('later', ep(7001));
      const filled = await grpc.next(EDS);
      expect(bodies(filled)).toEqual({ later: expectedLoadAssignment('later', [ep(7001)]) });
      grpc.ack(filled);
      expect(grpc.view(EDS)).toEqual(
        new Map([
          ['a', expectedLoadAssignment('a', [ep(5001)])],
          ['later', expectedLoadAssignment('later', [ep(7001)])],
        ]),
      );
      // The other types did not change for this client (its API listener `later` was never asked for).
      await grpc.expectNoResponse(QUIET_MS);
    }, TEST_TIMEOUT_MS);

    test('adding a name to an ACKed subscription is answered at once', async () => {
      await using w = await world({ a: [ep(5001)], b: [ep(5002)] });
      const envoy = w.client();
      envoy.subscribe(EDS, ['a']);
      envoy.ack(await envoy.next(EDS));
      // Envoy sends this without a nonce on Delta (an "ackless" request) and with the last nonce on SotW.
      envoy.subscribe(EDS, ['b']);
      const r = await envoy.next(EDS, 3_000);
      expect(bodies(r)).toEqual({ b: expectedLoadAssignment('b', [ep(5002)]) });
    }, TEST_TIMEOUT_MS);

    test('unsubscribe needs no answer and stops updates; resubscribing sends the resource again', async () => {
      await using w = await world({ a: [ep(5001)], b: [ep(5002)] });
      const envoy = w.client();
      envoy.subscribe(EDS, ['a', 'b']);
      envoy.ack(await envoy.next(EDS));
      envoy.subscribe(CDS, ['a', 'b']);
      envoy.ack(await envoy.next(CDS));

      envoy.unsubscribe(EDS, ['b']);
      envoy.unsubscribe(CDS, ['b']);
      await envoy.expectNoResponse(QUIET_MS);
      // b changes while unsubscribed: not this client's business.
      await w.register('b', ep(5003));
      await envoy.expectNoResponse(QUIET_MS);

      envoy.subscribe(EDS, ['b']);
      const eds = await envoy.next(EDS, 3_000);
      expect(bodies(eds)).toEqual({ b: expectedLoadAssignment('b', [ep(5002), ep(5003)]) });
      envoy.ack(eds);
      envoy.subscribe(CDS, ['b']);
      const cds = await envoy.next(CDS, 3_000);
      // SotW CDS carries the whole subscribed set; Delta only what the client lacks.
      expect(bodies(cds)).toEqual(isSotw ? { a: expectedCluster('a'), b: expectedCluster('b') } : { b: expectedCluster('b') });
      envoy.ack(cds);
      expect([...envoy.view(CDS).keys()].sort()).toEqual(['a', 'b']);
      await envoy.expectNoResponse(QUIET_MS);
    }, TEST_TIMEOUT_MS);

    test('a cluster that changed gets its endpoints sent again though they did not change (Envoy warming)', async () => {
      await using w = await world({ a: [ep(5001)], b: [ep(5002)] });
      const envoy = w.client();
      const boot = await bootEnvoy(envoy);
      const claBefore = boot.eds!.resources.find((r) => r.name === 'a')!;
      try {
        clusterOverride.connectTimeoutSeconds = 7;
        // Service `a` rebuilt with only its cluster different (see clusterOverride). The store keeps a
        // service's encoded cluster while its route policy is the same object, so hand it an explicit
        // policy that builds exactly the default routes: the routes' bytes stay the same.
        const sameRoutes = parseRoutePolicyValue(JSON.stringify({ routes: [{ to: '*' }] }));
        if (!sameRoutes.ok) throw new Error(sameRoutes.errors.join());
        const catalog = w.sy.catalog();
        const policies = new Map(catalog.policies).set('a', { key: '/switchyard/routes/a', policy: sameRoutes.value });
        w.sy.snapshots.update({ ...catalog, policies }, ['a']);
        const cds = await envoy.next(CDS);
        expect(bodies(cds)).toEqual(
          isSotw ? { a: expectedCluster('a', { connectTimeoutSeconds: 7 }), b: expectedCluster('b') } : { a: expectedCluster('a', { connectTimeoutSeconds: 7 }) },
        );
        // The CDS ACK is withheld while `a` warms; the endpoints come anyway, after the cluster.
        const eds = await envoy.next(EDS);
        expect(eds.seq).toBeGreaterThan(cds.seq);
        expect(bodies(eds)).toEqual({ a: claBefore.body });
        if (!isSotw) expect(eds.resources[0]!.version).not.toBe(claBefore.version);
        envoy.ack(eds);
        envoy.ack(cds);
        // Routes and listeners did not change for the sidecar.
        await envoy.expectNoResponse(QUIET_MS);
      } finally {
        clusterOverride.connectTimeoutSeconds = undefined;
      }
    }, TEST_TIMEOUT_MS);

    test('a request with a stale nonce is not answered; its subscription change is applied after the current ACK', async () => {
      await using w = await world({ a: [ep(5001)], b: [ep(5002)] });
      const envoy = w.client();
      envoy.subscribe(EDS, ['a']);
      const r1 = await envoy.next(EDS);
      // While the client still works on r1, `a` changes and r2 is on its way.
      await w.register('a', ep(5003));
      const r2 = await envoy.next(EDS);
      expect(bodies(r2)).toEqual({ a: expectedLoadAssignment('a', [ep(5001), ep(5003)]) });

      // The ACK of r1 also asks for b; its nonce is stale now (XDSP "Resource updates").
      envoy.ack(r1, { alsoSubscribe: ['b'] });
      await envoy.expectNoResponse(QUIET_MS);
      const stale = w.sy.events.of('request', envoy.nodeId).filter((e) => e.payload.stale);
      expect(stale.map((e) => e.payload.responseNonce)).toEqual([r1.nonce]);

      envoy.ack(r2);
      const r3 = await envoy.next(EDS);
      expect(bodies(r3)).toEqual({ b: expectedLoadAssignment('b', [ep(5002)]) });
      envoy.ack(r3);
      await envoy.expectNoResponse(QUIET_MS);
    }, TEST_TIMEOUT_MS);

    test('a NACKed version is not sent again; a later change is delivered (full-state CDS and EDS)', async () => {
      await using w = await world({ a: [ep(5001)] });
      const envoy = w.client();
      envoy.subscribe(CDS, []);
      envoy.ack(await envoy.next(CDS));
      envoy.subscribe(EDS, ['a']);
      envoy.ack(await envoy.next(EDS));

      await w.register('c', ep(6001));
      const cdsBad = await envoy.next(CDS);
      expect(names(cdsBad)).toEqual(isSotw ? ['a', 'c'] : ['c']);
      envoy.nack(cdsBad, 'cluster c: rejected by the conformance test');
      await w.register('a', ep(5002));
      const edsBad = await envoy.next(EDS);
      envoy.nack(edsBad, 'endpoints of a: rejected by the conformance test');
      await envoy.expectNoResponse(QUIET_MS);
      expect(w.sy.events.of('nack', envoy.nodeId).map((e) => [e.payload.typeUrl, e.payload.code, e.payload.nonce, e.payload.message])).toEqual([
        [CDS, 13, cdsBad.nonce, 'cluster c: rejected by the conformance test'],
        [EDS, 13, edsBad.nonce, 'endpoints of a: rejected by the conformance test'],
      ]);

      await w.register('d', ep(6002));
      const cds = await envoy.next(CDS);
      // SotW: full state with the new cluster; Delta: the change (c was sent once; its version did not change).
      expect(bodies(cds)).toEqual(isSotw ? { a: expectedCluster('a'), c: expectedCluster('c'), d: expectedCluster('d') } : { d: expectedCluster('d') });
      envoy.ack(cds);
      await w.register('a', ep(5003));
      const eds = await envoy.next(EDS);
      expect(bodies(eds)).toEqual({ a: expectedLoadAssignment('a', [ep(5001), ep(5002), ep(5003)]) });
      envoy.ack(eds);
    }, TEST_TIMEOUT_MS);

    test('reconnecting with the versions held gets exactly what changed meanwhile', async () => {
      await using w = await world({ a: [ep(5001)], b: [ep(5002)], keep: [ep(5009)] });
      const first = w.client({ nodeId: `reconnect-${protocol}` });
      first.subscribe(CDS, []);
      const cds1 = await first.next(CDS);
      first.ack(cds1);
      first.subscribe(EDS, ['a', 'b', 'keep']);
      const eds1 = await first.next(EDS);
      first.ack(eds1);
      first.close();

      if (isSotw) {
        // Nothing changed: a new stream whose first request carries the old version is still answered.
        const again = w.client({ nodeId: `reconnect-${protocol}` });
        again.subscribe(CDS, [], { versionInfo: first.ackedVersion(CDS) });
        const cds = await again.next(CDS);
        expect({ version: cds.versionInfo, resources: bodies(cds) }).toEqual({ version: cds1.versionInfo, resources: bodies(cds1) });
        again.subscribe(EDS, ['a', 'b', 'keep'], { versionInfo: first.ackedVersion(EDS) });
        const eds = await again.next(EDS);
        expect({ version: eds.versionInfo, resources: bodies(eds) }).toEqual({ version: eds1.versionInfo, resources: bodies(eds1) });
        again.close();
      }

      await w.removeService('a');
      await w.register('b', ep(5003));
      await w.register('c', ep(6001));

      const second = w.client({ nodeId: `reconnect-${protocol}` });
      if (isSotw) {
        second.subscribe(CDS, [], { versionInfo: first.ackedVersion(CDS) });
        const cds = await second.next(CDS);
        expect(bodies(cds)).toEqual({ b: expectedCluster('b'), c: expectedCluster('c'), keep: expectedCluster('keep') });
        // Envoy still has cluster `a` when it re-requests EDS; a valid name resolves to an empty assignment.
        second.subscribe(EDS, ['a', 'b', 'keep'], { versionInfo: first.ackedVersion(EDS) });
        const eds = await second.next(EDS);
        expect(bodies(eds)).toEqual({
          a: expectedLoadAssignment('a', []),
          b: expectedLoadAssignment('b', [ep(5002), ep(5003)]),
          keep: expectedLoadAssignment('keep', [ep(5009)]),
        });
        second.ack(cds);
        second.ack(eds);
      } else {
        second.subscribe(CDS, [], { initialResourceVersions: first.heldVersions(CDS) });
        const cds = await second.next(CDS);
        expect({ resources: bodies(cds), removed: cds.removed }).toEqual({ resources: { c: expectedCluster('c') }, removed: ['a'] });
        second.subscribe(EDS, ['a', 'b', 'keep'], { initialResourceVersions: first.heldVersions(EDS) });
        const eds = await second.next(EDS);
        // `keep` is unchanged and not sent; `a` is a valid name, so it resolves to an empty assignment.
        expect({ resources: bodies(eds), removed: eds.removed }).toEqual({
          resources: { a: expectedLoadAssignment('a', []), b: expectedLoadAssignment('b', [ep(5002), ep(5003)]) },
          removed: [],
        });
        second.ack(cds);
        second.ack(eds);
        second.close();
        // Reconnecting with exactly what the server has: nothing to send.
        const third = w.client({ nodeId: `reconnect-${protocol}` });
        third.subscribe(CDS, [], { initialResourceVersions: second.heldVersions(CDS) });
        third.subscribe(EDS, ['b', 'c', 'keep'], {
          initialResourceVersions: new Map([...second.heldVersions(EDS)].filter(([n]) => n !== 'a')),
        });
        const eds3 = await third.next(EDS);
        expect(bodies(eds3)).toEqual({ c: expectedLoadAssignment('c', [ep(6001)]) });
        await third.expectNoResponse(QUIET_MS);
      }
      expect(w.sy.events.of('nack')).toEqual([]);
    }, TEST_TIMEOUT_MS);

    test('a service deleted in etcd leaves CDS and the sidecar routes (SotW full state, Delta removed_resources)', async () => {
      await using w = await world({ a: [ep(5001)], b: [ep(5002), ep(5003)] });
      const envoy = w.client();
      await bootEnvoy(envoy);

      await w.removeService('b');
      const cds = await envoy.next(CDS);
      if (isSotw) expect({ resources: bodies(cds), removed: cds.removed }).toEqual({ resources: { a: expectedCluster('a') }, removed: [] });
      else expect({ resources: bodies(cds), removed: cds.removed }).toEqual({ resources: {}, removed: ['b'] });
      envoy.ack(cds);
      const rds = await envoy.next(RDS);
      expect(bodies(rds)).toEqual({ [OUTBOUND]: expectedOutboundRoute(['a']) });
      envoy.ack(rds);
      expect([...envoy.view(CDS).keys()]).toEqual(['a']);
      // The sidecar's only listener did not change.
      await envoy.expectNoResponse(QUIET_MS, LDS);
    }, TEST_TIMEOUT_MS);

    test('make-before-break on removal: the route stops naming a deleted service before its cluster is removed', async () => {
      await using w = await world({ a: [ep(5001)], b: [ep(5002)] });
      const envoy = w.client();
      await bootEnvoy(envoy);
      await w.removeService('b');
      const rds = await envoy.next(RDS);
      const cds = await envoy.next(CDS);
      // xds-notes §1.10 step 6 and issue 3 "removals last": until the route drops `b`, removing its cluster
      // turns the sidecar's 404 for an unknown host into 503 "no cluster" for a host it still routes.
      expect({ rdsBeforeCds: rds.seq < cds.seq }).toEqual({ rdsBeforeCds: true });
    }, TEST_TIMEOUT_MS);

    test('a request with an empty type URL is rejected: the stream ends with INVALID_ARGUMENT', async () => {
      await using w = await world({ a: [ep(5001)] });
      const envoy = w.client();
      envoy.subscribe(CDS, []);
      await envoy.next(CDS);
      envoy.send(isSotw ? { type_url: '', resource_names: ['a'] } : { type_url: '', resource_names_subscribe: ['a'] });
      const status = await envoy.status();
      expect(status.code).toBe(3);
      expect(status.details).toContain('type_url');
      await waitFor(() => w.sy.events.of('streamClosed', envoy.nodeId).length === 1, { message: 'streamClosed hook' });
    }, TEST_TIMEOUT_MS);

    test('ordering after one etcd change: CDS first, then EDS (incl. the new cluster, asked before the CDS ACK), routes after clusters', async () => {
      await using w = await world({ a: [ep(5001)] });
      const envoy = w.client();
      await bootEnvoy(envoy);
      const mark = envoy.received.length;

      // One transaction: a new service `c` and a new instance of `a`.
      await w.registerAtOnce([
        ['c', ep(6001)],
        ['a', ep(5002)],
      ]);
      const cds = await envoy.next(CDS);
      expect(names(cds)).toEqual(isSotw ? ['a', 'c'] : ['c']);
      // Envoy's CDS handling: pause EDS, add cluster `c` (warming), ask EDS for it, withhold the CDS ACK.
      envoy.subscribe(EDS, ['c']);
      const endpoints = new Map<string, Received>();
      while (!endpoints.has('c')) {
        const eds = await envoy.next(EDS);
        for (const r of eds.resources) endpoints.set(r.name, eds);
        envoy.ack(eds);
      }
      expect(bodies(endpoints.get('c')!).c).toEqual(expectedLoadAssignment('c', [ep(6001)]));
      expect(bodies(endpoints.get('a')!).a).toEqual(expectedLoadAssignment('a', [ep(5001), ep(5002)]));
      const rds = await envoy.next(RDS);
      expect(bodies(rds)).toEqual({ [OUTBOUND]: expectedOutboundRoute(['a', 'c']) });
      envoy.ack(rds);
      envoy.ack(cds);
      await envoy.expectNoResponse(QUIET_MS);

      const order = envoy.received.slice(mark).map((r) => r.typeUrl);
      const first = (t: string) => order.indexOf(t);
      expect(first(CDS)).toBe(0);
      expect(first(EDS)).toBeGreaterThan(first(CDS));
      expect(first(RDS)).toBeGreaterThan(first(CDS));
      expect(order.filter((t) => t === LDS)).toEqual([]);
    }, TEST_TIMEOUT_MS);

    test('EDS is answered right after a CDS change, without waiting for the CDS ACK', async () => {
      await using w = await world({ a: [ep(5001)] });
      const envoy = w.client();
      await bootEnvoy(envoy);
      await w.register('c', ep(6001));
      const cds = await envoy.next(CDS);
      expect(names(cds)).toContain('c');
      // No CDS ACK (Envoy withholds it while `c` warms): the EDS request alone must be answered.
      envoy.subscribe(EDS, ['c']);
      const eds = await envoy.next(EDS, 3_000);
      expect(bodies(eds)).toEqual({ c: expectedLoadAssignment('c', [ep(6001)]) });
      envoy.ack(eds);
      envoy.ack(cds);
    }, TEST_TIMEOUT_MS);

    test('an Envoy-view stream and a proxyless (exact-name) stream share one server', async () => {
      await using w = await world({ a: [ep(5001)], b: [ep(5002)] });
      const envoy = w.client();
      // gRPC speaks SotW only (A27), whatever the sidecar uses.
      const grpc = w.client({ protocol: 'sotw', userAgentName: 'gRPC Node Pure JS' });
      const bootP = bootEnvoy(envoy);
      for (const typeUrl of [LDS, RDS, CDS, EDS]) {
        grpc.subscribe(typeUrl, ['a']);
        grpc.ack(await grpc.next(typeUrl));
      }
      const boot = await bootP;
      expect(bodies(boot.lds)).toEqual({ [OUTBOUND]: expectedOutboundListener() });
      expect(names(boot.cds).sort()).toEqual(['a', 'b']);
      expect(grpc.view(LDS)).toEqual(new Map([['a', expectedApiListener('a')]]));
      expect(grpc.view(CDS)).toEqual(new Map([['a', expectedCluster('a')]]));

      await w.register('a', ep(5003));
      const expectedA = expectedLoadAssignment('a', [ep(5001), ep(5003)]);
      const [e1, e2] = await Promise.all([envoy.next(EDS), grpc.next(EDS)]);
      expect(bodies(e1)).toEqual({ a: expectedA });
      expect(bodies(e2)).toEqual({ a: expectedA });
      envoy.ack(e1);
      grpc.ack(e2);
      await Promise.all([envoy.expectNoResponse(QUIET_MS), grpc.expectNoResponse(QUIET_MS)]);
      expect(w.sy.events.of('nack')).toEqual([]);
      const streams: string[] = w.sy.events.of('streamOpened').map((e) => e.payload.protocol);
      expect(streams.sort()).toEqual([protocol, 'sotw'].sort());
    }, TEST_TIMEOUT_MS);
  });
}
