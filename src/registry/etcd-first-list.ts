/**
 * The first list of a cold start, made without etcd3. etcd3 parses its .proto files when it is imported,
 * ~150 ms on a small machine, and nothing of it is needed to read a range: this lists each prefix over a
 * plain grpc-js channel, so Switchyard can serve while etcd3 loads for the watches.
 *
 * Only the simple case is handled: no etcd user (authentication needs etcd3's token handling). A failure
 * of any kind is not an error here, only a reason for the caller to list through etcd3 as usual.
 * @module
 */
import * as grpc from '@grpc/grpc-js';
import { errorMessage } from '../lib/errors.ts';
import { ETCD_CLIENT_DEFAULTS, etcdHosts, type EtcdClientOptions } from './etcd-options.ts';
import { decodeRangeResponse, encodeRangeRequest, listPrefix, type Paging, type RangePage, type RangeRequest } from './etcd-range-wire.ts';
import type { RawEntry } from './source.ts';

export interface Listed {
  readonly entries: RawEntry[];
  readonly revision: number;
}

export type FirstList = { readonly ok: true; readonly lists: ReadonlyMap<string, Listed> } | { readonly ok: false; readonly why: string };

const RANGE_PATH = '/etcdserverpb.KV/Range';

/** Lists every prefix from the first endpoint that answers. */
export async function firstList(options: EtcdClientOptions, prefixes: readonly string[], paging: Paging): Promise<FirstList> {
  if (options.username !== undefined) return { ok: false, why: 'etcd authentication is configured' };
  const why: string[] = [];
  for (const endpoint of etcdHosts(options)) {
    const channel = openChannel(endpoint, options);
    try {
      const read = (request: RangeRequest) => range(channel, request, options.unaryTimeoutMs ?? ETCD_CLIENT_DEFAULTS.unaryTimeoutMs);
      const lists = new Map<string, Listed>();
      for (const prefix of prefixes) lists.set(prefix, await listPrefix(read, prefix, paging));
      return { ok: true, lists };
    } catch (e) {
      why.push(`${endpoint}: ${errorMessage(e)}`);
    } finally {
      channel.close();
    }
  }
  return { ok: false, why: why.join('; ') };
}

function openChannel(endpoint: string, options: EtcdClientOptions): grpc.Client {
  const url = new URL(endpoint);
  const { tls } = options;
  const credentials =
    url.protocol === 'https:' ? grpc.credentials.createSsl(tls?.ca ?? null, tls?.key ?? null, tls?.cert ?? null) : grpc.credentials.createInsecure();
  return new grpc.Client(url.host, credentials, {
    'grpc.max_receive_message_length': options.maxReceiveBytes ?? ETCD_CLIENT_DEFAULTS.maxReceiveBytes,
  });
}

function range(channel: grpc.Client, request: RangeRequest, timeoutMs: number): Promise<RangePage> {
  return new Promise((resolve, reject) => {
    channel.makeUnaryRequest(RANGE_PATH, encodeRangeRequest, decodeRangeResponse, request, { deadline: Date.now() + timeoutMs }, (e, page) =>
      e ? reject(e) : resolve(page!),
    );
  });
}
