/**
 * One demo greeter instance that registers itself in etcd the way a real service would: it serves
 * `switchyard.demo.v1.Greeter` on `0.0.0.0:<port>`, puts `/services/greeter/<advertise-host>:<port>` under a
 * 10 s lease that it keeps alive (and re-creates if etcd loses it), and on SIGTERM or SIGINT revokes the lease
 * first, so the instance leaves Switchyard's catalog at once, then stops serving. compose.yaml runs three.
 *
 *   bun examples/greeter-server.ts --etcd http://127.0.0.1:2379 [--port 50051] [--advertise-host IP]
 *                                  [--id greeter-1] [--service greeter] [--prefix /services/]
 *
 * Each flag can also come from the environment (flags win): ETCD_ENDPOINTS, GREETER_PORT,
 * GREETER_ADVERTISE_HOST, GREETER_ID, GREETER_SERVICE, GREETER_PREFIX. Without an advertise host the first
 * non-loopback IPv4 address of the machine is used (the container's address under compose).
 * @module
 */
import { isIP } from 'node:net';
import { hostname, networkInterfaces } from 'node:os';
import { parseArgs } from 'node:util';
import type { Etcd3, Lease } from 'etcd3';
import { serviceNameProblem } from '../src/catalog/service-name.ts';
import { formatHostPort, parseEtcdEndpoints, parsePrefix } from '../src/config/values.ts';
import { startGreeter, type Greeter } from '../src/demo/greeter.ts';
import { createBackoff, sleep } from '../src/lib/backoff.ts';
import { errorMessage } from '../src/lib/errors.ts';
import { createLogger, type Logger } from '../src/lib/logger.ts';
import { createEtcdClient } from '../src/registry/etcd-client.ts';

export const DEFAULT_PORT = 50051;
export const LEASE_TTL_SECONDS = 10;

export interface GreeterServerOptions {
  /** etcd client URLs, `http(s)://host:port`. */
  readonly etcd: readonly string[];
  /** Port to serve on (all interfaces); 0 picks a free one. */
  readonly port: number;
  /** IP address other machines reach this instance at; it goes into the etcd key. */
  readonly advertiseHost: string;
  /** Instance id, returned in every reply so clients can see who answered. */
  readonly id: string;
  readonly service: string;
  /** Key prefix, starts and ends with `/`. */
  readonly prefix: string;
  readonly leaseTtlSeconds?: number;
  readonly logger?: Logger;
}

export interface RunningGreeterServer {
  readonly greeter: Greeter;
  /** The registration key, e.g. `/services/greeter/172.18.0.5:50051`. */
  readonly key: string;
  /** Revokes the lease (the key disappears), then stops serving and closes the etcd client. Idempotent. */
  stop(): Promise<void>;
}

/** Starts the greeter and registers it; resolves once the key is in etcd. */
export async function runGreeterServer(options: GreeterServerOptions): Promise<RunningGreeterServer> {
  const { etcd, port, advertiseHost, id, service, prefix, leaseTtlSeconds = LEASE_TTL_SECONDS } = options;
  const logger = options.logger ?? createLogger().child(id);
  const greeter = await startGreeter({ id, host: '0.0.0.0', port, logger });
  const key = `${prefix}${service}/${formatHostPort({ host: advertiseHost, port: greeter.port })}`;
  const client = createEtcdClient({ endpoints: etcd });
  const registration = keepRegistered(client, key, leaseTtlSeconds, logger);
  // Retries until etcd answers: under compose the instance may start before etcd is ready.
  await registration.registered;

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      // Deregister before refusing calls, so clients move to other instances instead of hitting a closed port.
      await registration.revoke();
      await greeter.stop({ graceMs: 5_000 });
      client.close();
    })());
  return { greeter, key, stop };
}

/**
 * Puts `key` under a lease with keepalive. When the lease is lost (etcd restarted without its data, or was
 * unreachable for longer than the TTL) a new lease is granted and the key put again, retrying until it works.
 */
function keepRegistered(client: Etcd3, key: string, ttlSeconds: number, logger: Logger) {
  let current: Lease | undefined;
  let stopped = false;
  const backoff = createBackoff({ initialMs: 250, maxMs: 5_000 });

  async function register(): Promise<void> {
    for (;;) {
      if (stopped) return;
      const lease = client.lease(ttlSeconds, { autoKeepAlive: true });
      let live = false;
      lease.on('lost', (e) => {
        if (!live || stopped) return;
        live = false;
        current = undefined;
        logger.warn('lease lost, registering again', { key, error: errorMessage(e) });
        void register();
      });
      try {
        await lease.put(key).value('');
      } catch (e) {
        lease.release();
        logger.warn('could not register in etcd, retrying', { key, error: errorMessage(e) });
        await sleep(backoff.next());
        continue;
      }
      backoff.reset();
      live = true;
      current = lease;
      logger.info('registered', { key, ttlSeconds });
      if (stopped) await revoke();
      return;
    }
  }

  async function revoke(): Promise<void> {
    stopped = true;
    const lease = current;
    current = undefined;
    if (!lease) return;
    try {
      await lease.revoke();
      logger.info('deregistered', { key });
    } catch (e) {
      // The key still goes away when the TTL runs out.
      lease.release();
      logger.warn(`could not revoke the lease; the key expires within ${ttlSeconds} s`, { key, error: errorMessage(e) });
    }
  }

  return { registered: register(), revoke };
}

export type ParsedArgs = { ok: true; options: GreeterServerOptions } | { ok: false; error: string };

/** Flags win over environment variables; see the module comment. */
export function parseGreeterServerArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): ParsedArgs {
  let values: Record<string, string | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        etcd: { type: 'string' },
        port: { type: 'string' },
        'advertise-host': { type: 'string' },
        id: { type: 'string' },
        service: { type: 'string' },
        prefix: { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    return { ok: false, error: errorMessage(e) };
  }
  const fail = (error: string): ParsedArgs => ({ ok: false, error });

  const etcdRaw = values['etcd'] ?? env['ETCD_ENDPOINTS'];
  if (etcdRaw === undefined) return fail('no etcd given: pass --etcd http://host:2379 or set ETCD_ENDPOINTS');
  const etcd = parseEtcdEndpoints(etcdRaw);
  if (!etcd.ok) return fail(`--etcd / ETCD_ENDPOINTS: ${etcd.errors.join('; ')}`);

  const portRaw = values['port'] ?? env['GREETER_PORT'] ?? String(DEFAULT_PORT);
  const port = Number(portRaw);
  if (!/^[0-9]+$/.test(portRaw) || port > 65535) return fail(`--port / GREETER_PORT: expected 0-65535, got "${portRaw}"`);

  const advertiseHost = values['advertise-host'] ?? env['GREETER_ADVERTISE_HOST'] ?? firstExternalIPv4();
  if (advertiseHost === undefined) {
    return fail('no non-loopback IPv4 address found: pass --advertise-host or set GREETER_ADVERTISE_HOST');
  }
  // Switchyard serves the address from the key as an EDS endpoint, and Envoy does not resolve names there.
  if (isIP(advertiseHost) === 0) return fail(`--advertise-host / GREETER_ADVERTISE_HOST: expected an IP address, got "${advertiseHost}"`);

  const service = values['service'] ?? env['GREETER_SERVICE'] ?? 'greeter';
  const nameProblem = serviceNameProblem(service);
  if (nameProblem !== undefined) return fail(`--service / GREETER_SERVICE: ${nameProblem}`);

  const prefix = parsePrefix(values['prefix'] ?? env['GREETER_PREFIX'] ?? '/services/');
  if (!prefix.ok) return fail(`--prefix / GREETER_PREFIX: ${prefix.errors.join('; ')}`);

  const id = values['id'] ?? env['GREETER_ID'] ?? hostname();
  return { ok: true, options: { etcd: etcd.value, port, advertiseHost, id, service, prefix: prefix.value } };
}

function firstExternalIPv4(): string | undefined {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const a of addresses ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return undefined;
}

async function main(): Promise<void> {
  const parsed = parseGreeterServerArgs(process.argv.slice(2), process.env);
  if (!parsed.ok) {
    process.stderr.write(`greeter-server: ${parsed.error}\n`);
    process.exit(2);
  }
  const server = await runGreeterServer(parsed.options);
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (++signals > 1) process.exit(1);
    process.stderr.write(`greeter-server: ${signal}, deregistering and stopping\n`);
    server.stop().then(
      () => process.exit(0),
      (e) => {
        process.stderr.write(`greeter-server: stop failed: ${errorMessage(e)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

if (import.meta.main) {
  main().catch((e) => {
    process.stderr.write(`greeter-server: ${errorMessage(e)}\n`);
    process.exit(1);
  });
}
