/**
 * Registrations in etcd for the benches: `/services/<svc>/127.0.0.1:<port>` with an empty value.
 * Bulk loads go in transactions of at most 128 puts (etcd's default `--max-txn-ops`), several in flight.
 * @module
 */
import type { Etcd3 } from 'etcd3';

export const PREFIX = '/services/';
export const HOST = '127.0.0.1';
/** Base instances of a service use ports BASE_PORT.. BASE_PORT+n-1. */
export const BASE_PORT = 10_000;

export const serviceName = (i: number, width = 5): string => `svc-${String(i).padStart(width, '0')}`;
export const instanceKey = (service: string, port: number): string => `${PREFIX}${service}/${HOST}:${port}`;

/** Puts every key (empty values) in transactions of `opsPerTxn`, `inFlight` at a time; returns ms taken. */
export async function bulkPut(etcd: Etcd3, keys: readonly string[], { opsPerTxn = 128, inFlight = 8 } = {}): Promise<number> {
  const t0 = performance.now();
  const empty = Buffer.alloc(0);
  let next = 0;
  const worker = async () => {
    while (next < keys.length) {
      const batch = keys.slice(next, next + opsPerTxn);
      next += batch.length;
      await etcd.kv.txn({ success: batch.map((k) => ({ request_put: { key: Buffer.from(k), value: empty } })) });
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return performance.now() - t0;
}

/** `services` services of `instances` instances each, ports BASE_PORT.. (the catalog S2–S5 start from). */
export function catalogKeys(services: number, instances: number, width = 5): string[] {
  const keys: string[] = [];
  for (let s = 0; s < services; s++) for (let i = 0; i < instances; i++) keys.push(instanceKey(serviceName(s, width), BASE_PORT + i));
  return keys;
}

/** What etcd holds under the prefix now: service → sorted ports. */
export async function etcdServices(etcd: Etcd3): Promise<Record<string, number[]>> {
  const keys = await etcd.getAll().prefix(PREFIX).keys();
  const out: Record<string, number[]> = {};
  for (const key of keys) {
    const rest = key.slice(PREFIX.length);
    const slash = rest.indexOf('/');
    const service = rest.slice(0, slash);
    const port = Number(rest.slice(rest.lastIndexOf(':') + 1));
    (out[service] ??= []).push(port);
  }
  for (const ports of Object.values(out)) ports.sort((a, b) => a - b);
  return out;
}
