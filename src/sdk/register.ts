/**
 * `register()`: one instance, its own registrar. For several instances in one process use `createRegistrar()`,
 * which shares one lease between them.
 * @module
 */
import { Code, SwitchyardError } from '../lib/errors.ts';
import type { Registration } from './api.ts';
import type { InstanceRegistration } from './instance.ts';
import { createRegistrar, type RegistrarOptions } from './registrar.ts';

export interface RegisterOptions extends Omit<InstanceRegistration, 'host'>, Omit<RegistrarOptions, 'ttlSeconds'> {
  /** The instance's IP address (alias of `host`; give one of them). */
  readonly address?: string;
  readonly host?: string;
  /** Lease TTL in seconds, default 10. */
  readonly ttl?: number;
}

/**
 * Registers one instance under a lease of its own and keeps it registered. `drain()` and `close()` of the result
 * mark it draining, wait the grace period, delete the key, then revoke the lease and close the etcd client the
 * registrar created.
 * @example
 *   const reg = await register({ etcd: { endpoints: ['http://127.0.0.1:2379'] }, service: 'greeter', address: '10.0.0.7', port: 50051, ttl: 10 });
 *   process.on('SIGTERM', () => reg.close({ graceMs: 5000 }).then(() => process.exit(0)));
 */
export async function register(options: RegisterOptions): Promise<Registration> {
  const { etcd, prefix, ttl, logger, retry, address, host, ...fields } = options;
  if (address !== undefined && host !== undefined && address !== host) {
    throw new SwitchyardError(Code.InvalidArgument, `register: give address or host, not both ("${address}" and "${host}")`);
  }
  const registrar = createRegistrar({
    etcd,
    ...(prefix !== undefined && { prefix }),
    ...(ttl !== undefined && { ttlSeconds: ttl }),
    ...(logger !== undefined && { logger }),
    ...(retry !== undefined && { retry }),
  });
  let registration: Registration;
  try {
    registration = await registrar.register({ ...fields, host: (address ?? host) as string });
  } catch (e) {
    await registrar.close({ graceMs: 0 });
    throw e;
  }
  const finish = async (step: Promise<void>) => {
    await step;
    await registrar.close({ graceMs: 0 });
  };
  const own: Registration = {
    key: registration.key,
    service: registration.service,
    address: registration.address,
    get state() {
      return registration.state;
    },
    get value() {
      return registration.value;
    },
    drain: (opts) => finish(registration.drain(opts)),
    close: (opts) => finish(registration.close(opts)),
    [Symbol.asyncDispose]: () => own.close(),
  };
  return own;
}
