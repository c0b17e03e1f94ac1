/**
 * `switchyard register` as a sidecar for services not written in TypeScript: registers, keeps alive until
 * SIGTERM, then drains for the grace period and deregisters.
 */
import { describe, expect, test } from 'bun:test';
import { join } from 'node:path';
import { startEtcd, type TestEtcd } from '../harness/etcd.ts';
import { waitFor } from '../harness/wait-for.ts';

const root = join(import.meta.dir, '..', '..');

function switchyard(args: string[]) {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('SWITCHYARD_')) delete env[k];
  const proc = Bun.spawn([process.execPath, 'src/cli/main.ts', ...args], { cwd: root, stdout: 'pipe', stderr: 'pipe', env });
  let stdout = '';
  let stderr = '';
  const collect = async (stream: ReadableStream<Uint8Array>, add: (s: string) => void) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) add(decoder.decode(chunk, { stream: true }));
  };
  const done = Promise.all([collect(proc.stdout, (s) => (stdout += s)), collect(proc.stderr, (s) => (stderr += s))]);
  return {
    proc,
    stdout: () => stdout,
    stderr: () => stderr,
    output: () => `stdout:\n${stdout}\nstderr:\n${stderr}`,
    async exited() {
      const code = await proc.exited;
      await done;
      return code;
    },
  };
}

async function keyInfo(etcd: TestEtcd, key: string) {
  const kv = (await etcd.client.kv.range({ key: Buffer.from(key) })).kvs[0];
  return kv && { value: kv.value.toString(), lease: kv.lease };
}

describe('switchyard register', () => {
  test('registers with the given fields, keeps the lease alive, and on SIGTERM drains, deregisters and exits 0', async () => {
    await using etcd = await startEtcd();
    const key = '/services/legacy-api/127.0.0.1:7001';
    const run = switchyard([
      'register',
      '--etcd',
      etcd.endpoint,
      '--service',
      'legacy-api',
      '--address',
      '127.0.0.1:7001',
      '--ttl',
      '2',
      '--weight=3',
      '--zone',
      'z1',
      '--tag',
      'lang=cobol',
      '--drain-grace-ms',
      '1500',
    ]);
    try {
      await waitFor(async () => (await keyInfo(etcd, key)) !== undefined, { timeoutMs: 10_000, message: `${key}\n${run.output()}` });
      const { value, lease } = (await keyInfo(etcd, key))!;
      expect(JSON.parse(value)).toEqual({ weight: 3, zone: 'z1', tags: { lang: 'cobol' } });
      expect(Number((await etcd.client.leaseClient.leaseTimeToLive({ ID: lease })).grantedTTL)).toBe(2);
      await waitFor(() => run.stdout().includes(`registered ${key} under lease ${lease} (TTL 2 s)`), { message: run.output() });

      // Kept alive: still under the same lease at every check for longer than the TTL.
      for (const until = Date.now() + 2_500; Date.now() < until; await Bun.sleep(100)) {
        expect((await keyInfo(etcd, key))?.lease).toBe(lease);
      }

      const signalled = Date.now();
      run.proc.kill('SIGTERM');
      await waitFor(async () => JSON.parse((await keyInfo(etcd, key))?.value ?? '{}').draining === true, { message: 'draining mark' });
      expect(await keyInfo(etcd, key)).toEqual({ value: '{"weight":3,"zone":"z1","tags":{"lang":"cobol"},"draining":true}', lease });
      expect(await run.exited()).toBe(0);
      expect(Date.now() - signalled).toBeGreaterThanOrEqual(1_500);
      expect(await keyInfo(etcd, key)).toBeUndefined();
      expect(Number((await etcd.client.leaseClient.leaseTimeToLive({ ID: lease })).TTL)).toBe(-1);
      expect(run.stderr()).toContain('deregistered');
    } finally {
      run.proc.kill('SIGKILL');
    }
  }, 30_000);

  test('a service name that cannot be registered exits 2 before touching etcd', async () => {
    const run = switchyard(['register', '--etcd', 'http://127.0.0.1:1', '--service', 'Legacy_API', '--address', '127.0.0.1:7001']);
    expect(await run.exited()).toBe(2);
    expect(run.stderr()).toContain('switchyard: cannot register Legacy_API at 127.0.0.1:7001: service name "Legacy_API" may only contain lowercase');
    expect(run.stderr()).toContain("Run 'switchyard help register' for usage.");
  });

  test('missing settings exit 2 and name every one', async () => {
    const run = switchyard(['register', '--service', 'x']);
    expect(await run.exited()).toBe(2);
    expect(run.stderr()).toContain('register needs --etcd (or SWITCHYARD_ETCD)');
    expect(run.stderr()).toContain('register needs --address (or SWITCHYARD_ADDRESS)');
  });

  test('while etcd is unreachable it keeps retrying; SIGTERM still stops it cleanly', async () => {
    const run = switchyard(['register', '--etcd', 'http://127.0.0.1:1', '--service', 'x', '--address', '127.0.0.1:7001']);
    try {
      await waitFor(() => run.stderr().includes('could not grant a lease; retrying'), { timeoutMs: 10_000, message: run.output() });
      run.proc.kill('SIGTERM');
      expect(await run.exited()).toBe(0);
    } finally {
      run.proc.kill('SIGKILL');
    }
  }, 20_000);
});
