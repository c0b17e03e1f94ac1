import { beforeEach, describe, expect, test } from 'bun:test';
import { makeSnapshot } from '../../../test/fixtures/catalog.ts';
import { decodeMessage, messageType } from '../proto.ts';
import type { Snapshot } from '../snapshot/snapshot.ts';
import { TypeUrl, type AdsTypeUrl } from '../type-urls.ts';
import type { DeltaDiscoveryRequest } from './codec.ts';
import { DeltaSession } from './delta.ts';
import { createServerHooks } from './hooks.ts';

const { Cluster: CDS, ClusterLoadAssignment: EDS } = TypeUrl;

interface Sent {
  type_url: string;
  nonce: string;
  resources: { name: string; version: string; body: Record<string, unknown> }[];
  removed: string[];
}

function decodeResponse(bytes: Uint8Array): Sent {
  const type = messageType('envoy.service.discovery.v3.DeltaDiscoveryResponse');
  const msg = type.toObject(type.decode(bytes), { defaults: true }) as {
    type_url: string;
    nonce: string;
    removed_resources: string[];
    resources: { name: string; version: string; resource: { type_url: string; value: Uint8Array } }[];
  };
  return {
    type_url: msg.type_url,
    nonce: msg.nonce,
    removed: msg.removed_resources,
    resources: msg.resources.map((r) => ({ name: r.name, version: r.version, body: decodeMessage(r.resource.type_url, r.resource.value) })),
  };
}

const req = (
  typeUrl: string,
  { subscribe = [] as string[], unsubscribe = [] as string[], nonce = '', initial = {} as Record<string, string>, error = undefined as string | undefined } = {},
): DeltaDiscoveryRequest => ({
  typeUrl,
  subscribe,
  unsubscribe,
  responseNonce: nonce,
  initialResourceVersions: new Map(Object.entries(initial)),
  node: { id: 'envoy-1', cluster: 'c', userAgentName: 'envoy', userAgentVersion: '', clientFeatures: [], locality: {} },
  errorDetail: error === undefined ? undefined : { code: 13, message: error },
});

let snapshot: Snapshot;
let sent: Sent[];
let session: DeltaSession;
const last = () => sent[sent.length - 1]!;
const change = (next: Snapshot, changes: Partial<Record<AdsTypeUrl, string[]>>) => {
  snapshot = next;
  session.onSnapshot(new Map(Object.entries(changes).map(([t, n]) => [t as AdsTypeUrl, new Set(n)])));
};

beforeEach(() => {
  snapshot = makeSnapshot({ greeter: [5001], other: [6001] });
  sent = [];
  session = new DeltaSession({
    streamId: 1,
    snapshot: () => snapshot,
    sink: { send: (b) => sent.push(decodeResponse(b)), fail() {} },
    hooks: createServerHooks(),
    controlPlaneId: 'test',
  });
});

describe('Delta session', () => {
  test('wildcard CDS (empty first subscribe) gets every cluster with per-resource versions', () => {
    session.onRequest(req(CDS));
    expect(last().resources.map((r) => r.name)).toEqual(['greeter', 'other']);
    expect(last().resources.every((r) => r.version.length > 0)).toBe(true);
    session.onRequest(req(CDS, { nonce: last().nonce }));
    expect(sent).toHaveLength(1);
  });

  test('only changed resources are sent; a deleted service arrives in removed_resources', () => {
    session.onRequest(req(CDS, { subscribe: ['*'] }));
    change(makeSnapshot({ greeter: [5001] }), { [CDS]: ['other'] });
    expect(last()).toMatchObject({ resources: [], removed: ['other'] });
    change(makeSnapshot({ greeter: [5001], third: [1] }), { [CDS]: ['third'] });
    expect(last().resources.map((r) => r.name)).toEqual(['third']);
  });

  test('a subscribed name is sent even when the client is believed to hold it', () => {
    session.onRequest(req(EDS, { subscribe: ['greeter'] }));
    const first = last();
    session.onRequest(req(EDS, { subscribe: ['greeter'], nonce: first.nonce }));
    expect(sent).toHaveLength(2);
    expect(last().resources).toEqual(first.resources);
  });

  test('unsubscribe needs no response; resubscribe sends again', () => {
    session.onRequest(req(EDS, { subscribe: ['greeter', 'other'] }));
    session.onRequest(req(EDS, { unsubscribe: ['other'], nonce: last().nonce }));
    expect(sent).toHaveLength(1);
    change(makeSnapshot({ greeter: [5001], other: [6002] }), { [EDS]: ['other'] });
    expect(sent).toHaveLength(1);
    session.onRequest(req(EDS, { subscribe: ['other'], nonce: last().nonce }));
    expect(last().resources.map((r) => r.name)).toEqual(['other']);
  });

  test('reconnect with initial_resource_versions gets exactly the difference', () => {
    session.onRequest(req(CDS, { subscribe: ['*'] }));
    const versions = Object.fromEntries(last().resources.map((r) => [r.name, r.version]));
    const held = { ...versions, gone: 'v0', other: 'stale-version' };
    sent = [];
    session = new DeltaSession({
      streamId: 2,
      snapshot: () => snapshot,
      sink: { send: (b) => sent.push(decodeResponse(b)), fail() {} },
      hooks: createServerHooks(),
      controlPlaneId: 'test',
    });
    session.onRequest(req(CDS, { subscribe: ['*'], initial: held }));
    expect(sent).toHaveLength(1);
    expect(last().resources.map((r) => r.name)).toEqual(['other']);
    expect(last().removed).toEqual(['gone']);
  });

  test('a subscribed name that does not exist is reported once as removed', () => {
    session.onRequest(req(EDS, { subscribe: ['Not Valid'] }));
    expect(last()).toMatchObject({ resources: [], removed: ['Not Valid'] });
    change(makeSnapshot({ greeter: [5002], other: [6001] }), { [EDS]: ['greeter'] });
    expect(sent).toHaveLength(1);
  });

  test('a NACKed version is not sent again; a later change is', () => {
    session.onRequest(req(EDS, { subscribe: ['greeter'] }));
    session.onRequest(req(EDS, { nonce: last().nonce, error: 'rejected' }));
    expect(sent).toHaveLength(1);
    expect(session.subscriptionStates().get(EDS)?.lastNack?.message).toBe('rejected');
    change(makeSnapshot({ greeter: [5002], other: [6001] }), { [EDS]: ['greeter'] });
    expect(sent).toHaveLength(2);
  });

  test('a subscription change without a nonce (as Envoy sends them) is answered at once', () => {
    session.onRequest(req(EDS, { subscribe: ['greeter'] }));
    session.onRequest(req(EDS, { subscribe: ['other'] }));
    expect(sent.map((s) => s.resources.map((r) => r.name))).toEqual([['greeter'], ['other']]);
  });

  test('stale nonce: subscription kept, answered after the current ACK', () => {
    session.onRequest(req(EDS, { subscribe: ['greeter'] }));
    change(makeSnapshot({ greeter: [5002], other: [6001] }), { [EDS]: ['greeter'] });
    session.onRequest(req(EDS, { subscribe: ['other'], nonce: '1' }));
    expect(sent).toHaveLength(2);
    session.onRequest(req(EDS, { nonce: '2' }));
    expect(last().resources.map((r) => r.name)).toEqual(['other']);
  });
});
