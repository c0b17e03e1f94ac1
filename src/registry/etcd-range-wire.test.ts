import { expect, test } from 'bun:test';
import type * as grpc from '@grpc/grpc-js';
import { Range } from 'etcd3';
import { createEtcdClient } from './etcd-client.ts';
import { decodeRangeResponse, encodeRangeRequest, listPrefix, prefixRange, type RangeRequest } from './etcd-range-wire.ts';
import type { RawEntry } from './source.ts';

/** etcd3's own (de)serializers for KV.Range, from the service definition it builds; no server is contacted. */
function etcd3Range() {
  const client = createEtcdClient({ endpoints: ['http://127.0.0.1:1'] });
  const pool = (client as unknown as { pool: { hosts: { getServiceClient(s: string): grpc.Client }[] } }).pool;
  const range = (pool.hosts[0]!.getServiceClient('KV').constructor as unknown as { service: Record<string, grpc.MethodDefinition<unknown, unknown>> })
    .service.Range!;
  client.close();
  return range;
}

test('encodeRangeRequest writes what etcd3 reads: key, range end, limit and revision', () => {
  const range = etcd3Range();
  const decode = (r: RangeRequest) => range.requestDeserialize(encodeRangeRequest(r)) as Record<string, unknown>;
  const got = decode({ key: Buffer.from('/services/'), range_end: Buffer.from('/services0'), limit: 50_000, revision: '123456789012' });
  expect([String(got.key), String(got.range_end), String(got.limit), String(got.revision)]).toEqual(['/services/', '/services0', '50000', '123456789012']);
  const long = decode({ key: Buffer.from('k'.repeat(300)), range_end: Buffer.from([0]), limit: 1, revision: String(2 ** 40 + 1) });
  expect([String(long.key).length, [...(long.range_end as Buffer)], String(long.limit), String(long.revision)]).toEqual([300, [0], '1', String(2 ** 40 + 1)]);
  const plain = decode({ key: Buffer.from('a'), range_end: Buffer.from('b'), limit: 0 });
  expect([String(plain.limit), String(plain.revision)]).toEqual(['0', '0']);
});

test('prefixRange is the range etcd3 computes for a prefix', () => {
  for (const prefix of ['/services/', '/switchyard/routes/', '/ü/', 'a', '/x\u{10ffff}', '']) {
    const etcd3 = Range.prefix(prefix);
    const ours = prefixRange(prefix);
    expect([ours.start.toString('hex'), ours.end.toString('hex')]).toEqual([etcd3.start.toString('hex'), etcd3.end.toString('hex')]);
  }
  expect(prefixRange('/services/').end.toString()).toBe('/services0');
});

test('listPrefix pages after the last key, pins pages to the first revision and sizes them by bytes', async () => {
  const keys = Array.from({ length: 25 }, (_, i) => `/p/k${String(i).padStart(2, '0')}`);
  const requests: RangeRequest[] = [];
  const read = async (r: RangeRequest) => {
    requests.push(r);
    const from = keys.findIndex((k) => Buffer.compare(Buffer.from(k), r.key) >= 0);
    const page = keys.slice(from, from + r.limit);
    const entries: RawEntry[] = page.map((key) => ({ key, value: 'v'.repeat(95), modRevision: 3, lease: '0' }));
    const more = from + r.limit < keys.length;
    return { revision: r.revision ?? '41', more, entries, lastKey: Buffer.from(page.at(-1)!), bytes: page.length * 100 };
  };
  const { entries, revision } = await listPrefix(read, '/p/', { pageSize: 2, pageBytes: 1_000, maxPageSize: 8 });
  expect(entries.map((e) => e.key)).toEqual(keys);
  expect(revision).toBe(41);
  expect(requests.map((r) => r.limit)).toEqual([2, 8, 8, 8]);
  expect(requests.map((r) => r.revision)).toEqual([undefined, '41', '41', '41']);
  expect(requests[1]!.key.toString()).toBe('/p/k01\0');
  expect(requests.every((r) => r.range_end.toString() === '/p0')).toBe(true);
});

test('decodeRangeResponse reads what etcd3 encodes: revisions, 63-bit leases, UTF-8 keys, empty values, other fields skipped', () => {
  const range = etcd3Range();
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
