/**
 * Switchyard: etcd service registrations served as an xDS (ADS) control plane.
 * @module
 */
export { createSwitchyard } from './app.ts';
export type { Switchyard, SwitchyardOptions } from './app.ts';
export type { Catalog, Instance, Service, Rejection } from './catalog/model.ts';
export type { RegistrySource, RegistrySink, RawEntry, RawChange, SourceStatus } from './registry/source.ts';
export type { Logger, LogLevel } from './lib/logger.ts';
/**
 * Registration SDK: one lease per process, re-registration after etcd restarts and lost leases, draining.
 * @example
 *   const registrar = createRegistrar({ etcd: { endpoints: ['http://127.0.0.1:2379'] }, ttlSeconds: 10 });
 *   await registrar.register({ service: 'greeter', host: '10.0.0.7', port: 50051, version: 'v2' });
 *   process.on('SIGTERM', () => registrar.close({ graceMs: 5000 }).then(() => process.exit(0)));
 * @example
 *   const reg = await register({ etcd: { endpoints: ['http://127.0.0.1:2379'] }, service: 'greeter', address: '10.0.0.7', port: 50051, ttl: 10 });
 *   await reg.close({ graceMs: 5000 }); // draining, 5 s, key deleted, lease revoked
 */
export { createRegistrar, register, DEFAULT_GRACE_MS, DEFAULT_PREFIX, DEFAULT_TTL_SECONDS } from './sdk/index.ts';
export type {
  DrainOptions,
  EtcdTarget,
  InstanceRegistration,
  RegisterOptions,
  Registrar,
  RegistrarOptions,
  Registration,
  RegistrationState,
} from './sdk/index.ts';
