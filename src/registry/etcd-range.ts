import type * as grpc from '@grpc/grpc-js';
import { castGrpcError, EtcdInvalidAuthTokenError, type Etcd3, type IKeyValue } from 'etcd3';
import { decodeRangeResponse, type RangePage, type RangeRequest, type ReadRange } from './etcd-range-wire.ts';
import type { RawEntry } from './source.ts';

export type RangeReader = ReadRange & {
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
  const read = (request: RangeRequest) =>
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
  const read = async (request: RangeRequest): Promise<RangePage> => {
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

