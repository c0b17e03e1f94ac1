import type * as grpc from '@grpc/grpc-js';
import { castGrpcError, EtcdInvalidAuthTokenError, type Etcd3, type IKeyValue, type IRangeRequest } from 'etcd3';
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

export type RangeReader = ((request: IRangeRequest) => Promise<RangePage>) & {
  /** False when etcd3's internals were not as expected and `client.kv.range` is used. */
  readonly direct: boolean;
};

/**
 * Reads ranges for a list. A list of 100k keys through `client.kv.range` spends about as long turning
 * the response into objects (64-bit fields as strings, a Buffer per key and value) as etcd takes to
 * serve it, so this decodes `RangeResponse` straight into entries. The call still goes through etcd3's
 * connection pool (hosts, TLS, auth token, per-host circuit breakers, deadlines), reached through its
 * internals; where those are not what this expects (another etcd3 version), it uses `client.kv.range`.
 */
export function rangeReader(client: Etcd3): RangeReader {
  const pool = (client as unknown as { pool?: Partial<Pool> }).pool;
  if (typeof pool?.withConnection !== 'function' || typeof pool.callOptionsFactory !== 'function') return slowRange(client);
  const withConnection = pool.withConnection.bind(pool);
  const callOptions = pool.callOptionsFactory;
  const slow = slowRange(client);
  const read = (request: IRangeRequest) =>
    withConnection('KV', ({ client: kv, metadata }) => {
      const method = (kv.constructor as { service?: Record<string, grpc.MethodDefinition<unknown, unknown>> }).service?.Range;
      if (!method) return slow(request);
      const options = callOptions({ service: 'KV', method: 'range', params: request, isStream: false });
      return new Promise<RangePage>((resolve, reject) => {
        kv.makeUnaryRequest(method.path, method.requestSerialize, decodeRangeResponse, request, metadata, options, (e, page) => {
          if (!e) return resolve(page!);
          const error = castGrpcError(e);
          if (error instanceof EtcdInvalidAuthTokenError) pool.authenticator?.invalidateMetadata();
          reject(error);
        });
      });
    });
  return Object.assign(read, { direct: true });
}

interface Pool {
  withConnection<T>(service: string, fn: (c: { client: grpc.Client; metadata: grpc.Metadata }) => Promise<T>): Promise<T>;
  callOptionsFactory(ctx: { service: string; method: string; params: unknown; isStream: boolean }): grpc.CallOptions;
  authenticator?: { invalidateMetadata(): void };
}

function slowRange(client: Etcd3): RangeReader {
  const read = async (request: IRangeRequest): Promise<RangePage> => {
    const res = await client.kv.range(request);
    let bytes = 0;
    const entries = res.kvs.map((kv) => {
      bytes += kv.key.length + kv.value.length;
      return toEntry(kv);
    });
    return { revision: res.header.revision, more: res.more, entries, lastKey: res.kvs.at(-1)?.key, bytes };
  };
  return Object.assign(read, { direct: false });
}

/** An etcd3 KeyValue (from a watch event or `kv.range`) as a registry entry. */
export function toEntry(kv: IKeyValue): RawEntry {
  return { key: kv.key.toString('utf8'), value: kv.value.toString('utf8'), modRevision: Number(kv.mod_revision), lease: kv.lease || '0' };
}

// Field numbers from etcd's rpc.proto (RangeResponse, ResponseHeader) and kv.proto (KeyValue).

/** Decodes an etcd `RangeResponse` into a RangePage. */
export function decodeRangeResponse(buf: Buffer): RangePage {
  const r = new Reader(buf);
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

function header(r: Reader, end: number): string {
  let revision = '0';
  while (r.pos < end) {
    const t = r.varint();
    if (t === 3 << 3) revision = r.int64String();
    else r.skip(t);
  }
  return revision;
}

class Reader {
  pos = 0;
  readonly end: number;
  constructor(private readonly buf: Buffer) {
    this.end = buf.length;
  }

  /** A varint that fits in 32 bits (tags, lengths, booleans). */
  varint(): number {
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return result;
    }
    throw new Error('etcd RangeResponse: varint too long');
  }

  /** Reads a length and returns where that many bytes from here end. */
  limit(): number {
    const length = this.varint();
    return this.pos + length;
  }

  /** A non-negative int64 known to stay below 2^53 (revisions). */
  uint53(): number {
    const s = this.int64String();
    return Number(s);
  }

  /** An int64 as a decimal string, exact over the whole range (lease IDs use all 63 bits). */
  int64String(): string {
    let lo = 0;
    let hi = 0;
    for (let shift = 0; shift < 70; shift += 7) {
      const b = this.byte();
      if (shift < 28) lo += (b & 0x7f) * 2 ** shift;
      else if (shift === 28) {
        lo += (b & 0x0f) * 2 ** 28;
        hi += (b & 0x7f) >> 4;
      } else hi += (b & 0x7f) * 2 ** (shift - 32);
      if (b < 0x80) {
        if (hi < 2 ** 21) return String(hi * 2 ** 32 + lo);
        return BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo)).toString();
      }
    }
    throw new Error('etcd RangeResponse: varint too long');
  }

  bytes(): Buffer {
    const length = this.varint();
    const start = this.pos;
    this.pos += length;
    if (this.pos > this.end) throw new Error('etcd RangeResponse: truncated');
    return this.buf.subarray(start, this.pos);
  }

  skip(tag: number): void {
    switch (tag & 7) {
      case 0:
        this.int64String();
        return;
      case 1:
        this.pos += 8;
        return;
      case 2:
        this.pos = this.limit();
        return;
      case 5:
        this.pos += 4;
        return;
      default:
        throw new Error(`etcd RangeResponse: unexpected wire type ${tag & 7}`);
    }
  }

  private byte(): number {
    if (this.pos >= this.end) throw new Error('etcd RangeResponse: truncated');
    return this.buf[this.pos++]!;
  }
}
