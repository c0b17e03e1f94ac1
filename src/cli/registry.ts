/**
 * Where `serve` gets registrations from: the etcd given, a private etcd child process, or (no etcd binary on
 * PATH) the in-process memory registry.
 * @module
 */
import type { SwitchyardOptions } from '../index.ts';
import type { ServeConfig } from '../config/index.ts';
import type { Logger } from '../lib/logger.ts';
import { createMemoryRegistry } from '../registry/memory-registry.ts';
import { startEtcdProcess } from '../registry/etcd-process.ts';
import { DEMO_LEASE_TTL_SECONDS } from './demo.ts';
import { etcdRegistrar, memoryRegistrar, type DemoRegistrar } from './registrar.ts';
import type { Resources } from './resources.ts';

export interface RegistryChoice {
  readonly options: Pick<SwitchyardOptions, 'etcd' | 'source'>;
  /** For the demo's own registrations. */
  readonly registrar: () => DemoRegistrar;
}

export async function chooseRegistry(
  config: ServeConfig,
  { resources, logger, print, warn }: { resources: Resources; logger: Logger; print: (line: string) => void; warn: (line: string) => void },
): Promise<RegistryChoice> {
  const demoLease = { prefix: config.prefix, ttlSeconds: DEMO_LEASE_TTL_SECONDS, logger };
  if (config.etcd) {
    const etcd = config.etcd;
    print(`registry: etcd ${etcd.endpoints.join(',')} prefix ${config.prefix}`);
    return { options: { etcd }, registrar: () => etcdRegistrar(etcd, demoLease) };
  }

  if (Bun.which('etcd')) {
    const child = await startEtcdProcess({ ...(config.dataDir !== undefined && { dataDir: config.dataDir }), logger });
    resources.add('private etcd', () => child.stop());
    print(
      `no --etcd given: started a private etcd at ${child.endpoint} (pid ${child.pid}, data dir ${child.dataDir}${
        config.dataDir === undefined ? ', removed on exit' : ''
      })`,
    );
    const etcd = { endpoints: [child.endpoint], username: undefined, password: undefined };
    return { options: { etcd }, registrar: () => etcdRegistrar(etcd, demoLease) };
  }

  const memory = createMemoryRegistry({ prefix: config.prefix });
  resources.add('memory registry', () => memory.close());
  warn('WARNING: no --etcd given and no etcd binary on PATH: using the IN-PROCESS MEMORY REGISTRY.');
  warn('WARNING: only this process can register instances (e.g. --demo), and nothing persists after it exits.');
  warn('WARNING: install etcd (Debian: apt-get install etcd-server) or pass --etcd http://host:2379 for real use.');
  return { options: { source: memory }, registrar: () => memoryRegistrar(memory.store, demoLease) };
}
