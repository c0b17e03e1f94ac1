import { expect, test } from 'bun:test';
import { makeInstance } from '../../../test/fixtures/catalog.ts';
import { messageType } from '../proto.ts';
import { encodeService } from '../snapshot/service.ts';
import { encodeDeltaDiscoveryResponse, encodeDiscoveryResponse } from './codec.ts';

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
  }
});

test('a framed DeltaDiscoveryResponse decodes with protobufjs to what was framed', () => {
  for (const parts of [
    { systemVersionInfo: '42', resources, removed: ['gone', 'ünïcode/x'], typeUrl, nonce: '9', controlPlaneId: 'cp' },
    { systemVersionInfo: '', resources: [], removed: [], typeUrl, nonce: '1', controlPlaneId: '' },
  ]) {
    const type = messageType('envoy.service.discovery.v3.DeltaDiscoveryResponse');
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
