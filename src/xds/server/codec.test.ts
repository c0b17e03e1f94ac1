import { expect, test } from 'bun:test';
import { makeInstance } from '../../../test/fixtures/catalog.ts';
import { messageType } from '../proto.ts';
import { encodeService } from '../snapshot/service.ts';
import { decodeDeltaDiscoveryRequest, decodeDiscoveryRequest, encodeDeltaDiscoveryResponse, encodeDiscoveryResponse } from './codec.ts';

// a 200-endpoint assignment makes multi-byte lengths; the names include non-ASCII text
const resources = [...encodeService('svc', Array.from({ length: 200 }, (_, i) => makeInstance('svc', 1000 + i))), ...encodeService('b', [])];
const typeUrl = 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment';

test('a framed DiscoveryResponse is byte for byte what protobufjs encodes', () => {
  for (const parts of [
    { versionInfo: 'v1', resources, typeUrl, nonce: '7', controlPlaneId: 'switchyard@host/1' },
    { versionInfo: '', resources: [], typeUrl, nonce: '1', controlPlaneId: '' },
  ]) {
    const type = messageType('envoy.service.discovery.v3.DiscoveryResponse');
    const expected = type
      .encode(
        type.fromObject({
          version_info: parts.versionInfo,
          resources: parts.resources.map((r) => ({ type_url: r.typeUrl, value: r.bytes })),
          type_url: parts.typeUrl,
          nonce: parts.nonce,
          ...(parts.controlPlaneId ? { control_plane: { identifier: parts.controlPlaneId } } : {}),
        }),
      )
      .finish();
    expect(Buffer.from(encodeDiscoveryResponse(parts)).equals(Buffer.from(expected))).toBe(true);
    // with room left in front for the transport's prefix, the same bytes follow it
    expect(encodeDiscoveryResponse(parts, 5).subarray(5).equals(Buffer.from(expected))).toBe(true);
  }
});

test('a framed DeltaDiscoveryResponse decodes with protobufjs to what was framed', () => {
  for (const parts of [
    { systemVersionInfo: '42', resources, removed: ['gone', 'ünïcode/x'], typeUrl, nonce: '9', controlPlaneId: 'cp' },
    { systemVersionInfo: '', resources: [], removed: [], typeUrl, nonce: '1', controlPlaneId: '' },
  ]) {
    const type = messageType('envoy.service.discovery.v3.DeltaDiscoveryResponse');
    expect(encodeDeltaDiscoveryResponse(parts, 5).subarray(5).equals(encodeDeltaDiscoveryResponse(parts))).toBe(true);
    const decoded = type.toObject(type.decode(encodeDeltaDiscoveryResponse(parts)), { defaults: true, bytes: Buffer });
    expect(decoded).toMatchObject({
      system_version_info: parts.systemVersionInfo,
      type_url: parts.typeUrl,
      removed_resources: parts.removed,
      nonce: parts.nonce,
      control_plane: parts.controlPlaneId ? { identifier: parts.controlPlaneId } : null,
    });
    expect(decoded.resources.map((r: { name: string; version: string; resource: { type_url: string; value: Buffer } }) => [r.name, r.version, r.resource.type_url, r.resource.value.toString('hex')])).toEqual(
      parts.resources.map((r) => [r.name, r.version, r.typeUrl, Buffer.from(r.bytes).toString('hex')]),
    );
  }
});

const node = {
  id: 'envoy-1',
  cluster: 'edge',
  user_agent_name: 'envoy',
  user_agent_version: '1.31.0',
  client_features: ['envoy.lb.does_not_support_overprovisioning', 'xds.config.resource-in-sotw'],
  locality: { region: 'eu', zone: 'eu-1a', sub_zone: 'r7' },
  metadata: { fields: { team: { string_value: 'ünïcode' } } },
};
const encode = (type: string, value: object) => {
  const t = messageType(type);
  return Buffer.from(t.encode(t.fromObject(value)).finish());
};
/** Fields the server does not read, of every wire type, to be skipped. */
const unknownFields = Buffer.from([0xf8, 0x06, 0x96, 0x01, 0xf9, 0x06, 1, 2, 3, 4, 5, 6, 7, 8, 0xfd, 0x06, 1, 2, 3, 4, 0xfa, 0x06, 2, 0x68, 0x69]);

test('DiscoveryRequest decodes by hand to what protobufjs reads, unknown fields skipped', () => {
  const value = {
    version_info: 'v7',
    node,
    resource_names: ['a', 'ünï/b', ''],
    resource_locators: [{ name: 'xdstp://x/y' }],
    type_url: typeUrl,
    response_nonce: '12',
    error_detail: { code: -3, message: 'bad ünï', details: [{ type_url: 'type.googleapis.com/x', value: Buffer.from([1, 2]) }] },
  };
  const req = decodeDiscoveryRequest(Buffer.concat([encode('envoy.service.discovery.v3.DiscoveryRequest', value), unknownFields]));
  expect({ ...req, node: req.node }).toMatchObject({
    versionInfo: 'v7',
    resourceNames: ['a', 'ünï/b', ''],
    typeUrl,
    responseNonce: '12',
    errorDetail: { code: -3, message: 'bad ünï' },
    node: { id: 'envoy-1', cluster: 'edge', userAgentName: 'envoy', userAgentVersion: '1.31.0', clientFeatures: node.client_features, locality: { region: 'eu', zone: 'eu-1a', sub_zone: 'r7' } },
  });
  const empty = decodeDiscoveryRequest(new Uint8Array());
  expect([empty.node, empty.typeUrl, empty.versionInfo, empty.responseNonce, empty.errorDetail, empty.resourceNames]).toEqual([undefined, '', '', '', undefined, []]);
});

test('DeltaDiscoveryRequest decodes by hand: subscriptions, initial versions (last entry wins), NACK detail', () => {
  const value = {
    node,
    type_url: typeUrl,
    resource_names_subscribe: ['x', 'y'],
    resource_names_unsubscribe: ['z'],
    initial_resource_versions: { x: '1', 'ünï': '2' },
    response_nonce: '4',
    error_detail: { code: 13, message: 'rejected' },
  };
  const duplicateEntry = encode('envoy.service.discovery.v3.DeltaDiscoveryRequest', { initial_resource_versions: { x: '9' } });
  const req = decodeDeltaDiscoveryRequest(Buffer.concat([encode('envoy.service.discovery.v3.DeltaDiscoveryRequest', value), unknownFields, duplicateEntry]));
  expect(req).toMatchObject({ typeUrl, subscribe: ['x', 'y'], unsubscribe: ['z'], responseNonce: '4', errorDetail: { code: 13, message: 'rejected' } });
  expect([...req.initialResourceVersions]).toEqual([
    ['x', '9'],
    ['ünï', '2'],
  ]);
  expect(req.node?.id).toBe('envoy-1');
});

test('a truncated or malformed request is an error naming the message', () => {
  const whole = encode('envoy.service.discovery.v3.DeltaDiscoveryRequest', { type_url: typeUrl, response_nonce: '4' });
  expect(() => decodeDeltaDiscoveryRequest(whole.subarray(0, whole.length - 1))).toThrow('DeltaDiscoveryRequest: truncated');
  expect(() => decodeDiscoveryRequest(Buffer.from([0x0b]))).toThrow('DiscoveryRequest: unexpected wire type 3');
  expect(() => decodeDiscoveryRequest(Buffer.from([0x22, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]))).toThrow('DiscoveryRequest: varint too long');
});

test('a known type URL decodes to the interned constant, any other to its text', () => {
  const other = 'type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig';
  const known = decodeDiscoveryRequest(encode('envoy.service.discovery.v3.DiscoveryRequest', { type_url: typeUrl }));
  expect(known.typeUrl).toBe(typeUrl);
  expect(decodeDeltaDiscoveryRequest(encode('envoy.service.discovery.v3.DeltaDiscoveryRequest', { type_url: other })).typeUrl).toBe(other);
  // same length as a known URL, one byte different
  const near = typeUrl.slice(0, -1) + 'x';
  expect(decodeDiscoveryRequest(encode('envoy.service.discovery.v3.DiscoveryRequest', { type_url: near })).typeUrl).toBe(near);
});
