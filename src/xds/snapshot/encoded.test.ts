import { expect, test } from 'bun:test';
import { makeInstance } from '../../../test/fixtures/catalog.ts';
import { encodeMessage, messageType } from '../proto.ts';
import { buildLoadAssignment } from '../resources/endpoint.ts';
import { encodeResource } from './encoded.ts';

test('the message, its Any and its Delta Resource are one encoding, each decoding to the same resource', () => {
  // 200 endpoints make the lengths multi-byte varints
  const built = buildLoadAssignment('svc', Array.from({ length: 200 }, (_, i) => makeInstance('svc', 1000 + i)));
  const r = encodeResource(built, 'salt');
  const bytes = encodeMessage(built.typeUrl, built.message);
  expect(Buffer.from(r.bytes).equals(Buffer.from(bytes))).toBe(true);

  const any = messageType('google.protobuf.Any').decode(r.any) as unknown as { type_url: string; value: Uint8Array };
  expect(any.type_url).toBe(built.typeUrl);
  expect(Buffer.from(any.value).equals(Buffer.from(bytes))).toBe(true);

  const delta = messageType('envoy.service.discovery.v3.Resource').decode(r.deltaResource) as unknown as {
    name: string;
    version: string;
    resource: { type_url: string; value: Uint8Array };
  };
  expect([delta.name, delta.version, delta.resource.type_url]).toEqual(['svc', r.version, built.typeUrl]);
  expect(Buffer.from(delta.resource.value).equals(Buffer.from(bytes))).toBe(true);
  expect(r.any.buffer).toBe(r.deltaResource.buffer);
});
