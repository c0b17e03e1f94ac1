/**
 * The two programs compose.yaml runs besides Switchyard: examples/greeter-server.ts (registers itself in a real
 * etcd, keeps its lease alive, deregisters on SIGTERM) and examples/envoy-client.ts (sends `:authority`).
 */
import { describe, expect, test } from 'bun:test';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { greeterDefinition, greeterClient, type HelloReply, type HelloRequest } from '../../src/demo/greeter.ts';
import { parseGreeterServerArgs } from '../../examples/greeter-server.ts';
import { startEtcd, type TestEtcd } from '../harness/etcd.ts';
import { waitFor } from '../harness/wait-for.ts';

const root = join(import.meta.dir, '..', '..');

function spawnBun(args: string[]) {
  return Bun.spawn([process.execPath, ...args], { cwd: root, stdout: 'pipe', stderr: 'pipe', env: { ...process.env } });
}

async function greeterKeys(etcd: TestEtcd): Promise<Record<string, string>> {
  return etcd.client.getAll().prefix('/services/greeter/').strings();
}

async function leaseOf(etcd: TestEtcd, key: string): Promise<string> {
  const res = await etcd.client.kv.range({ key: Buffer.from(key) });
  const lease = res.kvs[0]?.lease;
  if (lease === undefined || lease === '0') throw new Error(`${key} has no lease`);
  return lease;
}

const ttlOf = async (etcd: TestEtcd, lease: string) => Number((await etcd.client.leaseClient.leaseTimeToLive({ ID: lease })).TTL);

describe('examples/greeter-server.ts', () => {
  test(
    'registers itself under a kept-alive 10 s lease, serves, and on SIGTERM deregisters before exiting',
    async () => {
      await using etcd = await startEtcd();
      const proc = spawnBun(['examples/greeter-server.ts', '--etcd', etcd.endpoint, '--port', '0', '--advertise-host', '127.0.0.1', '--id', 'gs-1']);
      const stderr = new Response(proc.stderr).text();
      try {
        await waitFor(async () => Object.keys(await greeterKeys(etcd)).length === 1, { timeoutMs: 10_000, message: 'the greeter key' });
        const [key] = Object.keys(await greeterKeys(etcd));
        const m = /^\/services\/greeter\/127\.0\.0\.1:([0-9]+)$/.exec(key!);
        expect(m).not.toBeNull();

        using client = greeterClient(`127.0.0.1:${m![1]}`);
        expect(await client.sayHello('compose')).toEqual({ message: 'Hello, compose', instance: 'gs-1' });

        const lease = await leaseOf(etcd, key!);
        const granted = Number((await etcd.client.leaseClient.leaseTimeToLive({ ID: lease })).grantedTTL);
        expect(granted).toBe(10);
        // Kept alive: the remaining TTL goes back up (a keepalive is sent every TTL/3).
        let lowest = await ttlOf(etcd, lease);
        await waitFor(
          async () => {
            const ttl = await ttlOf(etcd, lease);
            if (ttl > lowest) return true;
            lowest = ttl;
            return false;
          },
          { timeoutMs: 8_000, intervalMs: 200, message: 'the lease TTL to be refreshed' },
        );

        proc.kill('SIGTERM');
        expect(await proc.exited).toBe(0);
        // Gone as the process exits, not 10 s later when the lease would expire.
        expect(await greeterKeys(etcd)).toEqual({});
        expect(await stderr).toContain('deregistered');
      } finally {
        proc.kill('SIGKILL');
      }
    },
    { timeout: 30_000 },
  );

  test(
    'registers again with a new lease when its lease is lost',
    async () => {
      await using etcd = await startEtcd();
      const proc = spawnBun(['examples/greeter-server.ts', '--etcd', etcd.endpoint, '--port', '0', '--advertise-host', '127.0.0.1', '--id', 'gs-2']);
      try {
        await waitFor(async () => Object.keys(await greeterKeys(etcd)).length === 1, { timeoutMs: 10_000, message: 'the greeter key' });
        const [key] = Object.keys(await greeterKeys(etcd));
        const first = await leaseOf(etcd, key!);

        await etcd.client.leaseClient.leaseRevoke({ ID: first });
        expect(await greeterKeys(etcd)).toEqual({});

        // The next keepalive finds the lease gone (within TTL/3), and the instance registers again.
        await waitFor(async () => (await leaseOf(etcd, key!)) !== first, { timeoutMs: 10_000, intervalMs: 100, message: 'a new lease on the key' });
        expect(Object.keys(await greeterKeys(etcd))).toEqual([key!]);
      } finally {
        proc.kill('SIGKILL');
        await proc.exited;
      }
    },
    { timeout: 30_000 },
  );

  test('takes its settings from flags over environment variables and rejects what cannot be registered', () => {
    const env = { ETCD_ENDPOINTS: 'http://etcd:2379', GREETER_ID: 'greeter-1', GREETER_ADVERTISE_HOST: '172.18.0.5' };
    expect(parseGreeterServerArgs([], env)).toEqual({
      ok: true,
      options: { etcd: ['http://etcd:2379'], port: 50051, advertiseHost: '172.18.0.5', id: 'greeter-1', service: 'greeter', prefix: '/services/' },
    });
    const flags = parseGreeterServerArgs(['--etcd', 'http://10.0.0.1:2379', '--port', '6000', '--service', 'hello', '--prefix', '/svc'], env);
    expect(flags.ok && flags.options).toMatchObject({ etcd: ['http://10.0.0.1:2379'], port: 6000, service: 'hello', prefix: '/svc/' });

    const error = (argv: string[], e: Record<string, string> = env) => {
      const r = parseGreeterServerArgs(argv, e);
      return r.ok ? 'ok' : r.error;
    };
    expect(error([], { GREETER_ADVERTISE_HOST: '10.0.0.1' })).toContain('no etcd given');
    expect(error(['--advertise-host', 'greeter-1'])).toContain('expected an IP address');
    expect(error(['--port', '70000'])).toContain('expected 0-65535');
    expect(error(['--service', 'Greeter'])).toContain('lowercase');
    expect(error(['--etcd', 'etcd:2379'])).toContain('--etcd / ETCD_ENDPOINTS: "etcd:2379" has no http:// or https://');
    expect(error(['--prefix', 'services'])).toContain('--prefix / GREETER_PREFIX: expected a key prefix that starts with "/"');
    expect(error(['--bogus'])).toContain('bogus');
  });
});

describe('examples/envoy-client.ts', () => {
  test('sends every call with :authority set to the service name and counts answers per instance', async () => {
    const authorities: string[] = [];
    const server = new grpc.Server();
    server.addService(greeterDefinition(), {
      sayHello: (call: grpc.ServerUnaryCall<HelloRequest, HelloReply>, cb: grpc.sendUnaryData<HelloReply>) => {
        authorities.push(call.getHost());
        cb(null, { message: `Hello, ${call.request.name}`, instance: 'fake-envoy' });
      },
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
    );
    try {
      const proc = spawnBun(['examples/envoy-client.ts', '--target', `127.0.0.1:${port}`, '--authority', 'greeter', '--calls', '4']);
      const [stdout, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
      expect(code).toBe(0);
      expect(stdout).toContain(`4 calls via 127.0.0.1:${port} (:authority greeter):`);
      expect(stdout).toMatch(/fake-envoy\s+4\s+100%/);
      expect(authorities).toEqual(['greeter', 'greeter', 'greeter', 'greeter']);
    } finally {
      server.forceShutdown();
    }
  });
});
