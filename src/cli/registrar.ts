/**
 * How `serve --demo` registers its greeters: through the registration SDK against etcd (one lease kept alive, as
 * a real service would do it), or straight into the memory registry when there is no etcd.
 * @module
 */
import type { EtcdConfig } from '../config/index.ts';
import type { Logger } from '../lib/logger.ts';
import type { MemoryStore } from '../registry/memory-registry.ts';
import { formatHostPort } from '../registry/formats/address.ts';

export interface DemoInstance {
  readonly service: string;
  readonly host: string;
  readonly port: number;
}

export interface DemoRegistrar {
  /** Registers the instance under the registrar's one lease. */
  register(instance: DemoInstance): Promise<void>;
  /** Deletes every registration now (the whole demo is stopping, so no draining period) and releases the lease. */
  close(): Promise<void>;
}

export function memoryRegistrar(store: MemoryStore, { prefix, ttlSeconds }: { prefix: string; ttlSeconds: number }): DemoRegistrar {
  let lease: string | undefined;
  let keepAlive: ReturnType<typeof setInterval> | undefined;
  return {
    async register({ service, host, port }) {
      if (lease === undefined) {
        const id = store.grantLease(ttlSeconds);
        lease = id;
        keepAlive = setInterval(() => store.keepAlive(id), (ttlSeconds * 1000) / 3);
        keepAlive.unref();
      }
      store.put(`${prefix}${service}/${formatHostPort({ host, port })}`, '', { lease });
    },
    async close() {
      clearInterval(keepAlive);
      if (lease !== undefined) store.revoke(lease);
      lease = undefined;
    },
  };
}

export function etcdRegistrar(
  etcd: EtcdConfig,
  { prefix, ttlSeconds, logger }: { prefix: string; ttlSeconds: number; logger: Logger },
): DemoRegistrar {
  // Loaded when used: the SDK brings etcd3, which `serve` loads only after its first list (etcd-registry.ts).
  const registrar = import('../sdk/index.ts').then(({ createRegistrar }) =>
    createRegistrar({ etcd: { endpoints: etcd.endpoints, username: etcd.username, password: etcd.password }, prefix, ttlSeconds, logger }),
  );
  registrar.catch(() => {}); // reported by the register or close that awaits it
  return {
    register: async (instance) => void (await (await registrar).register(instance)),
    close: async () => (await registrar).close({ graceMs: 0 }),
  };
}
