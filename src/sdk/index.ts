/**
 * Registration SDK: how a TypeScript service registers its instances in etcd for Switchyard.
 * @module
 */
export { createRegistrar, DEFAULT_PREFIX, DEFAULT_TTL_SECONDS } from './registrar.ts';
export type { EtcdTarget, Registrar, RegistrarOptions } from './registrar.ts';
export { register } from './register.ts';
export type { RegisterOptions } from './register.ts';
export { DEFAULT_GRACE_MS } from './api.ts';
export type { DrainOptions, Registration, RegistrationState } from './api.ts';
export type { InstanceRegistration } from './instance.ts';
