/** How Switchyard connects to etcd; no etcd3 import here, so the first list can be made without it. */
import { Code, SwitchyardError } from '../lib/errors.ts';

export interface EtcdClientOptions {
  /** `http://host:port` or `https://host:port` (use DNS names with TLS under Bun, etcd-notes §2.9). */
  endpoints: readonly string[];
  username?: string;
  password?: string;
  /** PEM buffers; with `cert`+`key` the client does mTLS. */
  tls?: { ca: Buffer; cert?: Buffer; key?: Buffer };
  /** Deadline for every unary call (a no-quorum `get` otherwise hangs ~21 s, etcd-notes §2.5). */
  unaryTimeoutMs?: number;
  keepaliveTimeMs?: number;
  keepaliveTimeoutMs?: number;
  maxReceiveBytes?: number;
  watchBackoffInitialMs?: number;
  watchBackoffMaxMs?: number;
}

export const ETCD_CLIENT_DEFAULTS = {
  unaryTimeoutMs: 5_000,
  keepaliveTimeMs: 10_000,
  keepaliveTimeoutMs: 5_000,
  maxReceiveBytes: 64 * 1024 * 1024,
  watchBackoffInitialMs: 100,
  watchBackoffMaxMs: 2_000,
} as const;

/** The endpoints as URLs (`http://` added where no scheme is given); throws on options etcd3 would misuse. */
export function etcdHosts({ endpoints, username, password }: Pick<EtcdClientOptions, 'endpoints' | 'username' | 'password'>): string[] {
  if (endpoints.length === 0) {
    throw new SwitchyardError(Code.InvalidArgument, 'no etcd endpoints given: pass at least one, e.g. http://127.0.0.1:2379');
  }
  const hosts = endpoints.map((e) => (/^https?:\/\//.test(e) ? e : `http://${e}`));
  const secure = hosts.filter((h) => h.startsWith('https://')).length;
  if (secure > 0 && secure < hosts.length) {
    throw new SwitchyardError(Code.InvalidArgument, `etcd endpoints mix http and https (${hosts.join(', ')}): use one scheme for all`);
  }
  if ((username === undefined) !== (password === undefined)) {
    throw new SwitchyardError(Code.InvalidArgument, 'etcd username and password must be given together');
  }
  return hosts;
}
