/**
 * One demo greeter instance that registers itself in etcd the way a real service would, with Switchyard's
 * registration SDK: it serves `switchyard.demo.v1.Greeter` on `0.0.0.0:<port>` and registers
 * `/services/greeter/<advertise-host>:<port>` under a 10 s lease that the SDK keeps alive (and replaces if etcd
 * loses it). On SIGTERM or SIGINT it is marked draining, so clients stop sending it new calls, and after a short
 * grace period its key is deleted and the lease revoked; then it stops serving, letting in-flight calls finish.
 * compose.yaml runs three.
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
import { serviceNameProblem } from '../src/catalog/service-name.ts';
import { parseEtcdEndpoints, parsePrefix } from '../src/config/values.ts';
import { startGreeter, type Greeter } from '../src/demo/greeter.ts';
import { errorMessage } from '../src/lib/errors.ts';
import { createLogger, type Logger } from '../src/lib/logger.ts';
// An application would write: import { createRegistrar } from 'switchyard';
import { createRegistrar } from '../src/sdk/index.ts';

export const DEFAULT_PORT = 50051;
export const LEASE_TTL_SECONDS = 10;
/** How long the instance is registered as draining before its key goes (clients move away meanwhile). */
export const DRAIN_GRACE_MS = 2_000;

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
  readonly drainGraceMs?: number;
  readonly logger?: Logger;
}

export interface RunningGreeterServer {
  readonly greeter: Greeter;
  /** The registration key, e.g. `/services/greeter/172.18.0.5:50051`. */
  readonly key: string;
  /** Drains and deregisters (key deleted, lease revoked), then stops serving. Idempotent. */
  stop(): Promise<void>;
}

/** Starts the greeter and registers it; resolves once the key is in etcd. */
export async function runGreeterServer(options: GreeterServerOptions): Promise<RunningGreeterServer> {
  const { etcd, port, advertiseHost, id, service, prefix, leaseTtlSeconds = LEASE_TTL_SECONDS, drainGraceMs = DRAIN_GRACE_MS } = options;
  const logger = options.logger ?? createLogger().child(id);
  const greeter = await startGreeter({ id, host: '0.0.0.0', port, logger });
  const registrar = createRegistrar({ etcd: { endpoints: etcd }, prefix, ttlSeconds: leaseTtlSeconds, logger });
  // Retries until etcd answers: under compose the instance may start before etcd is ready.
  const registration = await registrar.register({ service, host: advertiseHost, port: greeter.port });

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      // Deregister before refusing calls, so clients move to other instances instead of hitting a closed port.
      await registrar.close({ graceMs: drainGraceMs });
      await greeter.stop({ graceMs: 5_000 });
    })());
  return { greeter, key: registration.key, stop };
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
