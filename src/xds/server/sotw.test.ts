import { beforeEach, describe, expect, test } from 'bun:test';
import { makeSnapshot } from '../../../test/fixtures/catalog.ts';
import { decodeMessage, messageType } from '../proto.ts';
import type { Snapshot } from '../snapshot/snapshot.ts';
import type { ResourceChanges } from '../snapshot/store.ts';
import { TypeUrl, type AdsTypeUrl } from '../type-urls.ts';
import type { DiscoveryRequest } from './codec.ts';
import { createServerHooks, type ServerEvents } from './hooks.ts';
import { SotwSession } from './sotw.ts';

const { Listener: LDS, RouteConfiguration: RDS, Cluster: CDS, ClusterLoadAssignment: EDS } = TypeUrl;

interface Sent {
  version_info: string;
  type_url: string;
  nonce: string;
  names: string[];
  resources: Record<string, unknown>[];
}

function decodeResponse(bytes: Uint8Array): Sent {
  const type = messageType('envoy.service.discovery.v3.DiscoveryResponse');
  const msg = type.toObject(type.decode(bytes), { defaults: true }) as {
    version_info: string;
    type_url: string;
    nonce: string;
    resources: { type_url: string; value: Uint8Array }[];
  };
  const resources = msg.resources.map((a) => decodeMessage(a.type_url, a.value));
  const names = resources.map((r) => String(r.name ?? r.cluster_name));
  return { version_info: msg.version_info, type_url: msg.type_url, nonce: msg.nonce, names, resources };
}

const req = (typeUrl: string, names: string[], nonce = '', versionInfo = '', error?: string): DiscoveryRequest => ({
  typeUrl,
  resourceNames: names,
  responseNonce: nonce,
  versionInfo,
  node: { id: 'n1', cluster: '', userAgentName: 'test', userAgentVersion: '', clientFeatures: [], locality: {} },
  errorDetail: error === undefined ? undefined : { code: 14, message: error },
});

let snapshot: Snapshot;
let sent: Sent[];
let failures: { code: number; details: string }[];
let events: { name: keyof ServerEvents; payload: unknown }[];
let session: SotwSession;

beforeEach(() => {
  snapshot = makeSnapshot({ greeter: [5001, 5002], other: [6001] });
  sent = [];
  failures = [];
  events = [];
  const hooks = createServerHooks();
  for (const name of ['ack', 'nack', 'request', 'response'] as const) hooks.on(name, (payload) => events.push({ name, payload }));
  session = new SotwSession({
    streamId: 1,
    snapshot: () => snapshot,
    sink: { send: (b) => sent.push(decodeResponse(b)), fail: (code, details) => failures.push({ code, details }) },
    hooks,
    controlPlaneId: 'test-cp',
  });
});

const last = () => sent[sent.length - 1]!;
const change = (next: Snapshot, changes: Record<string, string[]>) => {
  snapshot = next;
  session.onSnapshot(new Map(Object.entries(changes).map(([t, n]) => [t as AdsTypeUrl, new Set(n)])) as ResourceChanges);
};

describe('SotW session', () => {
  test('answers a first request with the named resource, and not the ACK that follows', () => {
    session.onRequest(req(LDS, ['greeter']));
    expect(sent).toHaveLength(1);
    expect(last()).toMatchObject({ type_url: LDS, nonce: '1', names: ['greeter'] });
    session.onRequest(req(LDS, ['greeter'], '1', last().version_info));
    expect(sent).toHaveLength(1);
    expect(events.filter((e) => e.name === 'ack')).toHaveLength(1);
  });

  test('LDS responses carry the full subscribed set when a name is added', () => {
    session.onRequest(req(LDS, ['greeter']));
    session.onRequest(req(LDS, ['greeter', 'other'], '1', last().version_info));
    expect(sent).toHaveLength(2);
    expect(last().names).toEqual(['greeter', 'other']);
  });

  test('EDS responses carry only what the stream does not have yet', () => {
    session.onRequest(req(EDS, ['greeter']));
    session.onRequest(req(EDS, ['greeter', 'other'], '1', last().version_info));
    expect(last().names).toEqual(['other']);
  });

  test('a resource unsubscribed and subscribed again is sent again, same version', () => {
    session.onRequest(req(EDS, ['greeter']));
    const first = last();
    session.onRequest(req(EDS, [], '1', first.version_info));
    expect(sent).toHaveLength(1);
    session.onRequest(req(EDS, ['greeter'], '1', first.version_info));
    expect(sent).toHaveLength(2);
    expect(last().names).toEqual(['greeter']);
    expect(last().version_info).toBe(first.version_info);
    expect(last().resources).toEqual(first.resources);
  });

  test('a reconnecting client that claims the current version still gets its resources', () => {
    session.onRequest(req(CDS, ['greeter'], '', 'whatever-it-had'));
    expect(sent).toHaveLength(1);
  });

  test('a NACK is recorded and the rejected version is not sent again; a later change is', () => {
    session.onRequest(req(EDS, ['greeter']));
    const rejected = last();
    session.onRequest(req(EDS, ['greeter'], '1', '', 'bad endpoint'));
    expect(sent).toHaveLength(1);
    expect(events.find((e) => e.name === 'nack')?.payload).toMatchObject({ typeUrl: EDS, nonce: '1', message: 'bad endpoint' });
    expect(session.subscriptionStates().get(EDS)?.lastNack).toEqual({ nonce: '1', versionInfo: '', message: 'bad endpoint' });
    change(makeSnapshot({ greeter: [5001, 5002], other: [6001] }), { [EDS]: ['greeter'] });
    expect(sent).toHaveLength(1);
    change(makeSnapshot({ greeter: [5001], other: [6001] }), { [EDS]: ['greeter'] });
    expect(sent).toHaveLength(2);
    expect(last().version_info).not.toBe(rejected.version_info);
  });

  test('a request with a stale nonce is not answered, but its names are kept and answered after the ACK', () => {
    session.onRequest(req(EDS, ['greeter']));
    change(makeSnapshot({ greeter: [5001], other: [6001] }), { [EDS]: ['greeter'] });
    expect(sent.map((s) => s.nonce)).toEqual(['1', '2']);
    session.onRequest(req(EDS, ['greeter', 'other'], '1', sent[0]!.version_info));
    expect(sent).toHaveLength(2);
    expect(events.filter((e) => e.name === 'request').at(-1)?.payload).toMatchObject({ stale: true });
    session.onRequest(req(EDS, ['greeter', 'other'], '2', sent[1]!.version_info));
    expect(sent).toHaveLength(3);
    expect(last().names).toEqual(['other']);
  });

  test('an empty type URL ends the stream with INVALID_ARGUMENT', () => {
    session.onRequest(req('', ['greeter']));
    expect(failures).toEqual([{ code: 3, details: 'type_url is required on an aggregated (ADS) stream' }]);
    expect(sent).toHaveLength(0);
  });

  test('an unknown type URL is not answered', () => {
    session.onRequest(req('type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret', ['x']));
    expect(sent).toHaveLength(0);
    expect(failures).toHaveLength(0);
  });

  test('legacy wildcard CDS (empty names) gets every cluster and stays wildcard on ACKs', () => {
    session.onRequest(req(CDS, []));
    expect(last().names).toEqual(['greeter', 'other']);
    session.onRequest(req(CDS, [], '1', last().version_info));
    change(makeSnapshot({ greeter: [5001, 5002], other: [6001], third: [7001] }), { [CDS]: ['third'] });
    expect(last().names).toEqual(['greeter', 'other', 'third']);
  });

  test('after naming something, an empty CDS list unsubscribes instead of meaning wildcard', () => {
    session.onRequest(req(CDS, ['greeter']));
    session.onRequest(req(CDS, [], '1', last().version_info));
    change(makeSnapshot({ greeter: [5009], other: [6001] }), { [CDS]: ['greeter'], [EDS]: ['greeter'] });
    expect(sent).toHaveLength(1);
  });

  test('explicit "*" is a wildcard; a service that goes away is dropped from the full-state response', () => {
    session.onRequest(req(CDS, ['*']));
    expect(last().names).toEqual(['greeter', 'other']);
    change(makeSnapshot({ greeter: [5001, 5002] }), { [CDS]: ['other'] });
    expect(last().names).toEqual(['greeter']);
  });

  test('an unregistered service name gets the chain of a service with no instances', () => {
    session.onRequest(req(EDS, ['not-yet']));
    expect(last().resources).toEqual([{ cluster_name: 'not-yet' }]);
    session.onRequest(req(LDS, ['bad name!']));
    expect(last()).toMatchObject({ type_url: LDS, names: [] });
  });

  test('a snapshot change pushes only subscribed types whose resources changed, clusters before endpoints', () => {
    session.onRequest(req(LDS, ['greeter']));
    session.onRequest(req(EDS, ['greeter']));
    session.onRequest(req(CDS, ['greeter']));
    const before = sent.length;
    change(makeSnapshot({ greeter: [5003], other: [6001] }), { [EDS]: ['greeter'], [CDS]: ['greeter'], [LDS]: ['greeter'] });
    // Only the endpoints differ: the listener and cluster bytes (and versions) are unchanged.
    expect(sent.slice(before).map((s) => s.type_url)).toEqual([EDS]);
    change(makeSnapshot({ greeter: [5003], other: [6002] }), { [EDS]: ['other'] });
    expect(sent.length).toBe(before + 1);
  });

  test('versions are content hashes: the same content gives the same version on another session', () => {
    session.onRequest(req(RDS, ['greeter']));
    const v = last().version_info;
    const other: Sent[] = [];
    const s2 = new SotwSession({
      streamId: 2,
      snapshot: () => makeSnapshot({ greeter: [5001, 5002] }),
      sink: { send: (b) => other.push(decodeResponse(b)), fail() {} },
      hooks: createServerHooks(),
      controlPlaneId: 'cp2',
    });
    s2.onRequest(req(RDS, ['greeter']));
    expect(other[0]!.version_info).toBe(v);
  });
});

describe('size guard', () => {
  const big = makeSnapshot({
    a: Array.from({ length: 40 }, (_, i) => 1000 + i),
    b: Array.from({ length: 40 }, (_, i) => 2000 + i),
  });
  const bigSession = (maxResponseBytes: number) => {
    const out: Sent[] = [];
    const refused: unknown[] = [];
    const hooks = createServerHooks();
    hooks.on('refused', (e) => refused.push(e));
    const s = new SotwSession({
      streamId: 9,
      snapshot: () => big,
      sink: { send: (b) => out.push(decodeResponse(b)), fail() {} },
      hooks,
      controlPlaneId: 'cp',
      maxResponseBytes,
    });
    return { s, out, refused };
  };
  const claBytes = big.get(EDS, 'a')!.any.length;

  test('EDS that would exceed the limit is split across responses', () => {
    const { s, out, refused } = bigSession(16 * 1024 + claBytes + 64);
    s.onRequest(req(EDS, ['a', 'b']));
    expect(out.map((o) => o.names)).toEqual([['a'], ['b']]);
    expect(new Set(out.map((o) => o.nonce)).size).toBe(2);
    expect(refused).toEqual([]);
  });

  test('a full-state CDS response over the limit is refused, not sent', () => {
    const cdsBytes = ['a', 'b'].reduce((n, name) => n + big.get(CDS, name)!.any.length + 8, 0);
    const { s, out, refused } = bigSession(16 * 1024 + cdsBytes);
    s.onRequest(req(CDS, ['a', 'b']));
    expect(out).toHaveLength(1);
    const { s: s2, out: out2, refused: refused2 } = bigSession(16 * 1024 + cdsBytes - 1);
    s2.onRequest(req(CDS, ['a', 'b']));
    expect(out2).toHaveLength(0);
    expect(refused2).toEqual([expect.objectContaining({ typeUrl: CDS, reason: expect.stringContaining('over the response limit') })]);
    expect(refused).toEqual([]);
  });
});
