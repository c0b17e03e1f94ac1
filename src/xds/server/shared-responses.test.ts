import { expect, test } from 'bun:test';
import { makeSnapshot } from '../../../test/fixtures/catalog.ts';
import { messageType } from '../proto.ts';
import type { Snapshot } from '../snapshot/snapshot.ts';
import { TypeUrl } from '../type-urls.ts';
import { DeltaSession } from './delta.ts';
import { createServerHooks } from './hooks.ts';
import { SharedResponses } from './shared-responses.ts';
import { SotwSession } from './sotw.ts';

const EDS = TypeUrl.ClusterLoadAssignment;
const node = { id: 'n', cluster: 'c', userAgentName: 'envoy', userAgentVersion: '', clientFeatures: [], locality: {} };
const deltaReq = (subscribe: string[], nonce = '') => ({ typeUrl: EDS, subscribe, unsubscribe: [], responseNonce: nonce, initialResourceVersions: new Map(), node, errorDetail: undefined });
const sotwReq = (names: string[], nonce = '', versionInfo = '') => ({ typeUrl: EDS, resourceNames: names, responseNonce: nonce, versionInfo, node, errorDetail: undefined });
const nonceOf = (type: string, b: Uint8Array) => (messageType(type).decode(b) as unknown as { nonce: string }).nonce;
const DELTA = 'envoy.service.discovery.v3.DeltaDiscoveryResponse';
const SOTW = 'envoy.service.discovery.v3.DiscoveryResponse';

function world(shared?: SharedResponses) {
  let snapshot: Snapshot = makeSnapshot({ greeter: [5001], other: [6001] });
  const open = <S>(make: (deps: ConstructorParameters<typeof DeltaSession>[0]) => S, streamId: number) => {
    const sent: Uint8Array[] = [];
    const session = make({ streamId, snapshot: () => snapshot, sink: { headroom: 5, send: (b) => sent.push(b), fail() {} }, hooks: createServerHooks(), controlPlaneId: 'cp', shared });
    return { session, sent };
  };
  return {
    delta: (id: number) => open((d) => new DeltaSession(d), id),
    sotw: (id: number) => open((d) => new SotwSession(d), id),
    set: (s: Snapshot) => (snapshot = s),
  };
}

test('streams that get the same change get the same bytes, framed once; a stream in another state gets its own', () => {
  const w = world(new SharedResponses());
  const [a, b, c] = [w.delta(1), w.delta(2), w.delta(3)];
  a.session.onRequest(deltaReq(['greeter']));
  b.session.onRequest(deltaReq(['greeter']));
  c.session.onRequest(deltaReq(['greeter', 'other']));
  expect(a.sent[0]).toBe(b.sent[0]!); // the very same buffer
  expect(c.sent[0]).not.toBe(a.sent[0]!);
  expect(nonceOf(DELTA, a.sent[0]!.subarray(5))).toMatch(/^c\d+$/);

  for (const s of [a, b, c]) s.session.onRequest(deltaReq([], nonceOf(DELTA, s.sent[0]!.subarray(5))));
  w.set(makeSnapshot({ greeter: [5001, 5002], other: [6001] }));
  for (const s of [a, b, c]) s.session.onSnapshot(new Map([[EDS, new Set(['greeter'])]]));
  expect(a.sent[1]).toBe(b.sent[1]!);
  expect(c.sent[1]).toBe(a.sent[1]!); // only greeter changed, so c's push is the same one
  expect(nonceOf(DELTA, a.sent[1]!.subarray(5))).not.toBe(nonceOf(DELTA, a.sent[0]!.subarray(5)));
});

test('SotW shares by version and resource list; without a shared cache every stream frames its own', () => {
  const w = world(new SharedResponses());
  const [a, b] = [w.sotw(1), w.sotw(2)];
  a.session.onRequest(sotwReq(['greeter']));
  b.session.onRequest(sotwReq(['greeter']));
  expect(a.sent[0]).toBe(b.sent[0]!);

  const alone = world();
  const [x, y] = [alone.delta(1), alone.delta(2)];
  x.session.onRequest(deltaReq(['greeter']));
  y.session.onRequest(deltaReq(['greeter']));
  expect(x.sent[0]).not.toBe(y.sent[0]!);
  // past the 5 bytes of headroom, which only the transport fills
  expect(Buffer.from(x.sent[0]!.subarray(5)).equals(Buffer.from(y.sent[0]!.subarray(5)))).toBe(true);
  expect(nonceOf(DELTA, x.sent[0]!.subarray(5))).toBe('1');
});

test('a new snapshot starts afresh, and the old one is not kept', () => {
  const shared = new SharedResponses();
  let frames = 0;
  const frame = (nonce: string) => (frames++, Buffer.from(nonce));
  let snapshot: object | undefined = {};
  const first = shared.get(snapshot, 'k', frame);
  expect(shared.get(snapshot, 'k', frame)).toBe(first);
  const next = {};
  const second = shared.get(next, 'k', frame);
  expect(second.nonce).not.toBe(first.nonce);
  expect(frames).toBe(2);
  const ref = new WeakRef(snapshot);
  snapshot = undefined;
  Bun.gc(true);
  expect(ref.deref()).toBeUndefined();
});
