/**
 * `createRegistrar()`: registers this process's service instances in etcd under one shared lease, keeps them
 * registered through etcd restarts and lost leases, and takes them out gracefully (draining, then deleting).
 * @module
 */
import type { Etcd3 } from 'etcd3';
import { Code, SwitchyardError, errorMessage } from '../lib/errors.ts';
import { createLogger, type Logger } from '../lib/logger.ts';
import { createEtcdClient } from '../registry/etcd-client.ts';
import { checkInstance, normalizePrefix, type InstanceRegistration } from './instance.ts';
import { closedError, createLeaseKeeper } from './lease-keeper.ts';
import { DEFAULT_GRACE_MS, checkGrace, type DrainOptions, type Registration } from './api.ts';
import { createEntry, type Entry } from './registration.ts';

export type { InstanceRegistration } from './instance.ts';
export type { DrainOptions, Registration, RegistrationState } from './api.ts';

/** etcd to register in: a client you own (never closed by the registrar), or endpoints for one it creates and closes. */
export type EtcdTarget =
  | Etcd3
  | { readonly endpoints: readonly string[]; readonly username?: string | undefined; readonly password?: string | undefined };

export interface RegistrarOptions {
  readonly etcd: EtcdTarget;
  /** Key prefix, default `/services/`; a missing trailing `/` is added. */
  readonly prefix?: string;
  /** Lease TTL in seconds, default 10: how long a crashed process's instances stay registered. */
  readonly ttlSeconds?: number;
  /** Default: info and above to stderr, scope `switchyard-registrar`. */
  readonly logger?: Logger;
  /** Backoff between attempts while etcd is unreachable (default 250 ms doubling up to 5 s, jittered). */
  readonly retry?: { readonly initialMs?: number; readonly maxMs?: number };
}

export interface Registrar extends AsyncDisposable {
  /** Puts the instance's key under the shared lease; waits (retrying) while etcd is unreachable. */
  register(instance: InstanceRegistration): Promise<Registration>;
  /** Registrations not closed yet. */
  readonly registrations: readonly Registration[];
  /** The current lease id (decimal), undefined before the first registration and while a lost lease is replaced. */
  readonly leaseId: string | undefined;
  readonly prefix: string;
  readonly ttlSeconds: number;
  /**
   * Drains every registration at once (one grace period), deletes their keys, revokes the lease and closes the
   * etcd client if the registrar created it. Idempotent. `[Symbol.asyncDispose]` uses the default grace period.
   */
  close(options?: DrainOptions): Promise<void>;
}

export const DEFAULT_TTL_SECONDS = 10;
export const DEFAULT_PREFIX = '/services/';
/** etcd's MaxLeaseTTL (server/lease/lessor.go). */
const MAX_TTL_SECONDS = 9_000_000_000;

/**
 * One registrar per process: every instance it registers shares one lease.
 * @example
 *   const registrar = createRegistrar({ etcd: { endpoints: ['http://127.0.0.1:2379'] } });
 *   const reg = await registrar.register({ service: 'greeter', host: '10.0.0.7', port: 50051, zone: 'eu-1a' });
 *   process.on('SIGTERM', () => registrar.close({ graceMs: 5000 }).then(() => process.exit(0)));
 */
export function createRegistrar(options: RegistrarOptions): Registrar {
  const { ttlSeconds = DEFAULT_TTL_SECONDS, retry = {} } = options;
  const logger = options.logger ?? createLogger().child('switchyard-registrar');
  const prefixResult = normalizePrefix(options.prefix ?? DEFAULT_PREFIX);
  if (!prefixResult.ok) throw invalid(`createRegistrar: ${prefixResult.errors.join('; ')}`);
  const prefix = prefixResult.value;
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > MAX_TTL_SECONDS) {
    throw invalid(`createRegistrar: ttlSeconds must be a whole number of seconds from 1 to ${MAX_TTL_SECONDS}, got ${ttlSeconds}`);
  }
  const ownsClient = isEndpoints(options.etcd);
  const client = isEndpoints(options.etcd)
    ? createEtcdClient({
        endpoints: options.etcd.endpoints,
        ...(options.etcd.username !== undefined && { username: options.etcd.username }),
        ...(options.etcd.password !== undefined && { password: options.etcd.password }),
      })
    : options.etcd;
  const retryOptions = { initialMs: retry.initialMs ?? 250, maxMs: retry.maxMs ?? 5_000 };

  const entries = new Set<Entry>();
  let closing: Promise<void> | undefined;
  let reregistering: Promise<void> | undefined;

  const keeper = createLeaseKeeper({
    client,
    ttlSeconds,
    logger,
    retry: retryOptions,
    onLost: () => void registerAgain(),
  });

  /** Puts every live entry under the new lease; one run at a time, a loss during it starts another. */
  function registerAgain(): Promise<void> {
    if (reregistering) return reregistering.then(() => registerAgain());
    return (reregistering = (async () => {
      const live = [...entries].filter((e) => e.wantsKey);
      await Promise.all(live.map((e) => e.sync()));
      if (keeper.closed || keeper.current === undefined) return;
      keeper.revokeStale();
      if (live.length > 0) logger.info(`registered ${live.length} instance(s) again`, { lease: keeper.current.id });
    })().finally(() => (reregistering = undefined)));
  }

  const context = { client, keeper, logger, retry: retryOptions, forget: (e: Entry) => entries.delete(e) };

  const registrar: Registrar = {
    async register(input) {
      if (closing) throw closedError();
      const checked = checkInstance(prefix, input);
      if (!checked.ok) throw invalid(`cannot register ${describe(input)}: ${checked.errors.join('; ')}`);
      for (const e of entries) {
        if (e.instance.key === checked.value.key) {
          throw new SwitchyardError(Code.FailedPrecondition, `${checked.value.key} is already registered by this registrar; close that registration first`);
        }
      }
      const entry = createEntry(checked.value, context);
      entries.add(entry);
      try {
        await entry.sync({ initial: { aborted: () => closing !== undefined } });
      } catch (e) {
        await entry.abandon();
        throw e;
      }
      logger.info('registered', { key: entry.instance.key, lease: keeper.current?.id, ttlSeconds });
      return entry.registration;
    },
    get registrations() {
      return [...entries].filter((e) => e.confirmed).map((e) => e.registration);
    },
    get leaseId() {
      return keeper.current?.id;
    },
    prefix,
    ttlSeconds,
    close({ graceMs = DEFAULT_GRACE_MS } = {}) {
      return (closing ??= (async () => {
        checkGrace(graceMs);
        // Registrations still waiting for etcd give up: their register() rejects once the keeper closes below (not
        // awaited here, since their first put may be waiting for a lease). The others drain together.
        const pending = [...entries].filter((e) => !e.confirmed);
        for (const e of pending) void e.abandon();
        await Promise.all([...entries].filter((e) => e.confirmed).map((e) => e.registration.close({ graceMs })));
        await keeper.close();
        if (ownsClient) client.close();
        logger.info('registrar closed');
      })());
    },
    [Symbol.asyncDispose]: () => registrar.close(),
  };
  return registrar;
}

const invalid = (message: string) => new SwitchyardError(Code.InvalidArgument, message);

const isEndpoints = (etcd: EtcdTarget): etcd is Extract<EtcdTarget, { endpoints: readonly string[] }> =>
  typeof etcd === 'object' && etcd !== null && Array.isArray((etcd as { endpoints?: unknown }).endpoints);

function describe(input: InstanceRegistration): string {
  try {
    return `${String(input.service)} at ${String(input.host)}:${String(input.port)}`;
  } catch (e) {
    return `an instance (${errorMessage(e)})`;
  }
}
