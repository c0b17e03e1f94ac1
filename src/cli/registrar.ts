/**
 * Leased registrations for the demo, against etcd or the memory registry: one lease kept alive until revoked,
 * as a real service instance would register itself.
 * @module
 */
import type { Lease } from 'etcd3';
import type { EtcdConfig } from '../config/index.ts';
import { errorMessage } from '../lib/errors.ts';
import type { Logger } from '../lib/logger.ts';
import { createEtcdClient } from '../registry/etcd-client.ts';
import type { MemoryStore } from '../registry/memory-registry.ts';

export interface LeasedKeys {
  put(key: string, value: string): Promise<void>;
  /** Deletes the keys now instead of when the TTL runs out. */
  revoke(): Promise<void>;
}

export interface Registrar {
  grant(ttlSeconds: number): Promise<LeasedKeys>;
  close(): Promise<void>;
}

export function memoryRegistrar(store: MemoryStore): Registrar {
  return {
    async grant(ttlSeconds) {
      const lease = store.grantLease(ttlSeconds);
      const keepAlive = setInterval(() => store.keepAlive(lease), (ttlSeconds * 1000) / 3);
      keepAlive.unref();
      return {
        put: async (key, value) => void store.put(key, value, { lease }),
        revoke: async () => {
          clearInterval(keepAlive);
          store.revoke(lease);
        },
      };
    },
    close: async () => {},
  };
}

export function etcdRegistrar(etcd: EtcdConfig, logger: Logger): Registrar {
  const client = createEtcdClient({
    endpoints: etcd.endpoints,
    ...(etcd.username !== undefined && { username: etcd.username }),
    ...(etcd.password !== undefined && { password: etcd.password }),
  });
  const leases = new Set<Lease>();
  return {
    async grant(ttlSeconds) {
      // etcd3 keeps the lease alive itself (autoKeepAlive) until revoke() or release().
      const lease = client.lease(ttlSeconds);
      leases.add(lease);
      lease.on('lost', (e) => logger.warn('demo lease lost; its instances will disappear', { error: errorMessage(e) }));
      await lease.grant();
      return {
        put: async (key, value) => void (await lease.put(key).value(value)),
        revoke: async () => {
          leases.delete(lease);
          await lease.revoke();
        },
      };
    },
    async close() {
      for (const lease of leases) lease.release();
      client.close();
    },
  };
}
