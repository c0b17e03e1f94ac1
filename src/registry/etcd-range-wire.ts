/**
 * etcd's KV.Range on the wire, without etcd3: the request encoder, a `RangeResponse` decoder straight
 * into registry entries, and the paging of a prefix list. Shared by the etcd3-based reader and the
 * first list of a cold start (etcd-first-list.ts), which must not load etcd3.
 * @module
 */
import { WireReader } from '../lib/wire-reader.ts';
import type { RawEntry } from './source.ts';

/** One page of an etcd range, with what a registry list needs. */
export interface RangePage {
  /** Store revision of the response (decimal string, as etcd3 gives it). */
  readonly revision: string;
  readonly more: boolean;
  readonly entries: RawEntry[];
  /** Raw last key, to start the next page after it. */
  readonly lastKey: Buffer | undefined;
  /** Bytes of keys and values in the page. */
  readonly bytes: number;
}

/** The fields of etcd's `RangeRequest` a list uses (a subset of etcd3's `IRangeRequest`). */
export interface RangeRequest {
  readonly key: Buffer;
  readonly range_end: Buffer;
  readonly limit: number;
  /** Pins every page after the first to the first page's revision. */
  readonly revision?: string;
}

export type ReadRange = (request: RangeRequest) => Promise<RangePage>;

/** `[start, end)` of every key under `prefix`, as etcd's `WithPrefix` computes it. */
export function prefixRange(prefix: string): { start: Buffer; end: Buffer } {
  // the empty prefix is every key: etcd's "from \0 to the end" range
  if (prefix === '') return { start: Buffer.from([0]), end: Buffer.from([0]) };
  const start = Buffer.from(prefix);
  const end = Buffer.from(start);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]!++;
      return { start, end: end.subarray(0, i + 1) };
    }
  }
  return { start, end: Buffer.from([0]) };
}

export interface Paging {
  /** Keys in the first page. */
  readonly pageSize: number;
  /** Later pages aim at about this many bytes, from the bytes per key seen so far... */
  readonly pageBytes: number;
  /** ...with at most this many keys. */
  readonly maxPageSize: number;
}

export const DEFAULT_PAGING: Paging = { pageSize: 1_000, pageBytes: 8 * 1024 * 1024, maxPageSize: 50_000 };

/**
 * Every key under `prefix`, page by page, all pages at the first page's revision (linearizable reads).
 * etcd counts the whole remaining range for every page, so pages are sized by bytes, not kept small.
 * `between`, when given, is awaited between pages.
 */
export async function listPrefix(
  read: ReadRange,
  prefix: string,
  paging: Paging,
  between?: () => Promise<void>,
): Promise<{ entries: RawEntry[]; revision: number }> {
  const range = prefixRange(prefix);
  const entries: RawEntry[] = [];
  let key = range.start;
  let revision: string | undefined;
  let limit = paging.pageSize;
  let bytes = 0;
  for (;;) {
    const page = await read({ key, range_end: range.end, limit, ...(revision ? { revision } : {}) });
    revision ??= page.revision;
    for (const entry of page.entries) entries.push(entry);
    bytes += page.bytes;
    limit = Math.max(paging.pageSize, Math.min(paging.maxPageSize, Math.floor(paging.pageBytes / Math.max(1, bytes / entries.length))));
    if (!page.more || !page.lastKey) break;
    key = Buffer.concat([page.lastKey, Buffer.from([0])]);
    await between?.();
  }
  // int64 revisions arrive as strings; a store would need 2^53 writes before Number loses precision.
  return { entries, revision: Number(revision ?? 0) };
}

/** Encodes a `RangeRequest` (etcd rpc.proto: key 1, range_end 2, limit 3, revision 4). */
export function encodeRangeRequest({ key, range_end, limit, revision }: RangeRequest): Buffer {
  const out: number[] = [];
  const varint = (n: number) => {
    for (; n >= 0x80; n = Math.floor(n / 0x80)) out.push((n % 0x80) | 0x80);
    out.push(n);
  };
  const bytes = (field: number, b: Buffer) => {
    varint((field << 3) | 2);
    varint(b.length);
    for (const x of b) out.push(x);
  };
  bytes(1, key);
  bytes(2, range_end);
  const uint = (field: number, n: number) => {
    varint(field << 3);
    varint(n);
  };
  if (limit > 0) uint(3, limit);
  // revisions stay below 2^53 (see listPrefix)
  if (revision !== undefined && revision !== '0') uint(4, Number(revision));
  return Buffer.from(out);
}

// Field numbers from etcd's rpc.proto (RangeResponse, ResponseHeader) and kv.proto (KeyValue).

/** Decodes an etcd `RangeResponse` into a RangePage. */
export function decodeRangeResponse(buf: Buffer): RangePage {
  const r = new WireReader(buf, 'etcd RangeResponse');
  let revision = '0';
  let more = false;
  let bytes = 0;
  let lastKey: Buffer | undefined;
  const entries: RawEntry[] = [];
  while (r.pos < r.end) {
    const tag = r.varint();
    if (tag === ((1 << 3) | 2)) revision = header(r, r.limit());
    else if (tag === ((2 << 3) | 2)) {
      const end = r.limit();
      let key: Buffer | undefined;
      let value = '';
      let modRevision = 0;
      let lease = '0';
      while (r.pos < end) {
        const t = r.varint();
        if (t === ((1 << 3) | 2)) key = r.bytes();
        else if (t === (3 << 3)) modRevision = r.uint53();
        else if (t === ((5 << 3) | 2)) {
          const v = r.bytes();
          bytes += v.length;
          value = v.toString('utf8');
        } else if (t === (6 << 3)) lease = r.int64String();
        else r.skip(t);
      }
      if (!key) throw new Error('etcd RangeResponse: a KeyValue without a key');
      bytes += key.length;
      lastKey = key;
      entries.push({ key: key.toString('utf8'), value, modRevision, lease });
    } else if (tag === 3 << 3) more = r.varint() !== 0;
    else r.skip(tag);
  }
  return { revision, more, entries, lastKey, bytes };
}

function header(r: WireReader, end: number): string {
  let revision = '0';
  while (r.pos < end) {
    const t = r.varint();
    if (t === 3 << 3) revision = r.int64String();
    else r.skip(t);
  }
  return revision;
}
