import { expect, test } from 'bun:test';
import type * as grpc from '@grpc/grpc-js';
import { createEtcdClient } from './etcd-client.ts';
import { decodeRangeResponse } from './etcd-range.ts';

test('decodeRangeResponse reads what etcd3 encodes: revisions, 63-bit leases, UTF-8 keys, empty values, other fields skipped', () => {
  // etcd3's own serializer for RangeResponse, from the service definition it builds (no server is contacted)
  const client = createEtcdClient({ endpoints: ['http://127.0.0.1:1'] });
  const pool = (client as unknown as { pool: { hosts: { getServiceClient(s: string): grpc.Client }[] } }).pool;
  const range = (pool.hosts[0]!.getServiceClient('KV').constructor as unknown as { service: Record<string, grpc.MethodDefinition<unknown, unknown>> })
    .service.Range!;
  client.close();
  const kvs = [
    { key: Buffer.from('/services/a/10.0.0.1:80'), value: Buffer.from('{"weight":2}'), create_revision: '3', mod_revision: '9', version: '2', lease: '7587862111934187000' },
    { key: Buffer.from('/services/ü/[::1]:80'), value: Buffer.alloc(0), create_revision: '4', mod_revision: '4', version: '1', lease: '0' },
    { key: Buffer.from(`/services/big/${'x'.repeat(300)}`), value: Buffer.from('y'.repeat(20_000)), mod_revision: '123456789012', lease: '1' },
  ];
  const bytes = range.responseSerialize({ header: { cluster_id: '14841639068965178418', revision: '123456789013', raft_term: '5' }, kvs, more: true, count: '7' });
  const page = decodeRangeResponse(bytes);
  expect(page.revision).toBe('123456789013');
  expect(page.more).toBe(true);
  expect(page.entries).toEqual(
    kvs.map((kv) => ({ key: kv.key.toString('utf8'), value: kv.value.toString('utf8'), modRevision: Number(kv.mod_revision), lease: kv.lease })),
  );
  expect(page.lastKey?.toString()).toBe(kvs[2]!.key.toString());
  expect(page.bytes).toBe(kvs.reduce((n, kv) => n + kv.key.length + kv.value.length, 0));

  // an unknown length-delimited field of 129 bytes (two-byte length) in front changes nothing
  const unknown = Buffer.concat([Buffer.from([(15 << 3) | 2, 0x81, 0x01]), Buffer.alloc(129, 7), bytes]);
  expect(decodeRangeResponse(unknown)).toEqual(page);

  const last = decodeRangeResponse(range.responseSerialize({ header: { revision: '5' }, kvs: [] }));
  expect([last.revision, last.more, last.entries, last.lastKey]).toEqual(['5', false, [], undefined]);
  expect(() => decodeRangeResponse(bytes.subarray(0, bytes.length - 3))).toThrow(/truncated/);
});
