/**
 * The registration SDK against a real etcd: shared lease, keepalive, re-registration after an etcd restart and a
 * lost lease, draining and closing.
 */
import { describe, expect, test } from 'bun:test';
import { Code, SwitchyardError } from '../../src/lib/errors.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { createRegistrar, register, type Registrar, type RegistrarOptions } from '../../src/sdk/index.ts';
import { startEtcd, type TestEtcd } from '../harness/etcd.ts';
import { waitFor } from '../harness/wait-for.ts';

const TTL = 2; // etcd's minimum with default election settings (etcd-notes §2.7)
const fast = { initialMs: 100, maxMs: 500 };

/** A registrar on the test etcd that logs into `lines`. */
function testRegistrar(etcd: TestEtcd, over: Partial<RegistrarOptions> = {}) {
  const lines: string[] = [];
  const logger = createLogger({ level: 'debug', write: (l) => lines.push(l) });
  const registrar = createRegistrar({ etcd: { endpoints: [etcd.endpoint] }, ttlSeconds: TTL, logger, retry: fast, ...over });
  return { registrar, lines };
}

async function keyInfo(etcd: TestEtcd, key: string): Promise<{ value: string; lease: string } | undefined> {
  const kv = (await etcd.client.kv.range({ key: Buffer.from(key) })).kvs[0];
  return kv && { value: kv.value.toString(), lease: kv.lease };
}

const leaseTtl = async (etcd: TestEtcd, id: string) => {
  const r = await etcd.client.leaseClient.leaseTimeToLive({ ID: id });
  return { ttl: Number(r.TTL), granted: Number(r.grantedTTL) };
};

const keysUnder = async (etcd: TestEtcd, prefix = '/services/') => Object.keys(await etcd.client.getAll().prefix(prefix).strings()).sort();

/** Asserts `predicate` holds at every check for `ms` (here: that a key survives more than a TTL). */
async function holdsFor(ms: number, predicate: () => Promise<boolean>, what: string) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (!(await predicate())) throw new Error(`${what} stopped holding after ${ms - (end - Date.now())} ms`);
    await Bun.sleep(100);
  }
}

async function closeQuietly(registrar: Registrar) {
  await registrar.close({ graceMs: 0 }).catch(() => undefined);
}

describe('registrar', () => {
  test('puts each instance under one shared, kept-alive lease, with its fields in the value', async () => {
    await using etcd = await startEtcd();
    const { registrar } = testRegistrar(etcd);
    try {
      const a = await registrar.register({ service: 'greeter', host: '127.0.0.1', port: 50051 });
      const b = await registrar.register({ service: 'greeter', host: '::1', port: 50052, weight: 3, zone: 'z1', version: 'v2', tags: { canary: '1' } });
      const lease = registrar.leaseId!;
      expect(lease).toMatch(/^[0-9]+$/);
      expect(await keyInfo(etcd, '/services/greeter/127.0.0.1:50051')).toEqual({ value: '', lease });
      expect(await keyInfo(etcd, '/services/greeter/[::1]:50052')).toEqual({
        value: '{"weight":3,"zone":"z1","version":"v2","tags":{"canary":"1"}}',
        lease,
      });
      expect([a.key, a.address, a.state, b.key, b.address]).toEqual([
        '/services/greeter/127.0.0.1:50051',
        '127.0.0.1:50051',
        'registered',
        '/services/greeter/[::1]:50052',
        '[::1]:50052',
      ]);
      expect(registrar.registrations.map((r) => r.key)).toEqual([a.key, b.key]);
      expect((await leaseTtl(etcd, lease)).granted).toBe(TTL);

      // Kept alive: both keys outlive the TTL several times over.
      await holdsFor(TTL * 1_000 + 1_000, async () => (await keysUnder(etcd)).length === 2, 'both keys registered');
      expect(registrar.leaseId).toBe(lease);
    } finally {
      await closeQuietly(registrar);
    }
  }, 20_000);

  test('close() drains every instance at once, deletes the keys and revokes the lease', async () => {
    await using etcd = await startEtcd();
    const { registrar, lines } = testRegistrar(etcd);
    await registrar.register({ service: 'a', host: '127.0.0.1', port: 1 });
    await registrar.register({ service: 'b', host: '127.0.0.1', port: 2, weight: 2 });
    const lease = registrar.leaseId!;

    const started = Date.now();
    const closing = registrar.close({ graceMs: 1_000 });
    await waitFor(async () => (await keyInfo(etcd, '/services/b/127.0.0.1:2'))?.value === '{"weight":2,"draining":true}', {
      message: 'b marked draining',
    });
    expect(await keyInfo(etcd, '/services/a/127.0.0.1:1')).toEqual({ value: '{"draining":true}', lease });
    await closing;
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    expect(Date.now() - started).toBeLessThan(1_900); // one grace period for both, not one each
    expect(await keysUnder(etcd)).toEqual([]);
    expect((await leaseTtl(etcd, lease)).ttl).toBe(-1); // etcd: -1 = no such lease
    expect(registrar.registrations).toEqual([]);
    expect(lines.join('\n')).toContain('lease revoked');
    await expect(registrar.register({ service: 'c', host: '127.0.0.1', port: 3 })).rejects.toThrow('the registrar is closed');
  }, 20_000);

  test('drain(): draining during the grace period, then the key is gone; other instances stay', async () => {
    await using etcd = await startEtcd();
    const { registrar } = testRegistrar(etcd);
    try {
      const a = await registrar.register({ service: 'greeter', host: '127.0.0.1', port: 50051, version: 'v1' });
      const b = await registrar.register({ service: 'greeter', host: '127.0.0.1', port: 50052 });
      const lease = registrar.leaseId!;

      const draining = a.drain({ graceMs: 1_500 });
      await waitFor(async () => (await keyInfo(etcd, a.key))?.value === '{"version":"v1","draining":true}', { message: 'draining mark' });
      expect(a.state).toBe('draining');
      expect((await keyInfo(etcd, a.key))?.lease).toBe(lease);
      await Bun.sleep(1_000);
      expect((await keyInfo(etcd, a.key))?.value).toBe('{"version":"v1","draining":true}'); // still there in the grace period
      await draining;
      expect(a.state).toBe('drained');
      expect(await keyInfo(etcd, a.key)).toBeUndefined();
      expect(await keyInfo(etcd, b.key)).toEqual({ value: '', lease });

      // A drained instance is not put back when the lease is replaced.
      await etcd.client.leaseClient.leaseRevoke({ ID: lease });
      await waitFor(async () => ![undefined, lease].includes((await keyInfo(etcd, b.key))?.lease), { timeoutMs: 5_000, message: 'b again' });
      expect(await keysUnder(etcd)).toEqual([b.key]);

      await a.close();
      expect(registrar.registrations).toEqual([b]);
    } finally {
      await closeQuietly(registrar);
    }
  }, 20_000);

  test('a lost lease (revoked by someone else) is replaced and every key put again', async () => {
    await using etcd = await startEtcd();
    const { registrar, lines } = testRegistrar(etcd);
    try {
      const a = await registrar.register({ service: 'greeter', host: '127.0.0.1', port: 50051, weight: 7 });
      const b = await registrar.register({ service: 'other', host: '127.0.0.2', port: 50051 });
      const first = registrar.leaseId!;

      const revokedAt = Date.now();
      await etcd.client.leaseClient.leaseRevoke({ ID: first });
      expect(await keysUnder(etcd)).toEqual([]);

      // The next keepalive (every TTL/3) hears TTL 0; a new lease is granted and both keys put under it.
      await waitFor(
        async () => {
          const [ia, ib] = [await keyInfo(etcd, a.key), await keyInfo(etcd, b.key)];
          return ia !== undefined && ib !== undefined && ia.lease !== first && ia.lease === ib.lease;
        },
        { timeoutMs: 5_000, intervalMs: 50, message: 'both keys under a new lease' },
      );
      const recoveredMs = Date.now() - revokedAt;
      const second = registrar.leaseId!;
      expect(second).not.toBe(first);
      expect(await keyInfo(etcd, a.key)).toEqual({ value: '{"weight":7}', lease: second });
      expect(recoveredMs).toBeLessThan(TTL * 1_000 + 1_000);
      expect(lines.join('\n')).toContain('lease lost; granting a new one and registering again');
      await holdsFor(TTL * 1_000 + 500, async () => (await keysUnder(etcd)).length === 2, 'keys under the new lease');
    } finally {
      await closeQuietly(registrar);
    }
  }, 20_000);

  test('survives an etcd restart: registered afterwards and still registered once the TTL has passed', async () => {
    await using etcd = await startEtcd();
    const { registrar } = testRegistrar(etcd);
    try {
      const a = await registrar.register({ service: 'greeter', host: '127.0.0.1', port: 50051 });
      await etcd.restart();
      const underLiveLease = async () => registrar.leaseId !== undefined && (await keyInfo(etcd, a.key))?.lease === registrar.leaseId;
      await waitFor(underLiveLease, { timeoutMs: 10_000, message: 'key under the live lease after the restart' });
      await holdsFor(TTL * 2_000 + 500, underLiveLease, 'key under the live lease');
    } finally {
      await closeQuietly(registrar);
    }
  }, 20_000);

  test('etcd down for longer than the TTL: the lease is given up, a new one granted once etcd is back', async () => {
    await using etcd = await startEtcd();
    const { registrar, lines } = testRegistrar(etcd);
    try {
      const a = await registrar.register({ service: 'greeter', host: '127.0.0.1', port: 50051 });
      const first = registrar.leaseId!;
      await etcd.restart({ whileDown: () => Bun.sleep(TTL * 1_000 + 1_000) });
      await waitFor(async () => ![undefined, first].includes(registrar.leaseId) && (await keyInfo(etcd, a.key))?.lease === registrar.leaseId, {
        timeoutMs: 10_000,
        message: 'key under a new lease after the outage',
      });
      const log = lines.join('\n');
      expect(log).toContain('lease keepalive failed; retrying');
      expect(log).toMatch(/lease lost; granting a new one and registering again.*no keepalive acknowledged/);
      // The old lease is gone: revoked once nothing used it, or expired (a restart gave it one more TTL, etcd-notes §2.7).
      await waitFor(async () => (await leaseTtl(etcd, first)).ttl === -1, { timeoutMs: 5_000, message: 'old lease revoked' });
      await holdsFor(TTL * 1_000 + 500, async () => (await keyInfo(etcd, a.key)) !== undefined, 'key after the outage');
    } finally {
      await closeQuietly(registrar);
    }
  }, 20_000);

  test('register() waits while etcd is down and completes once it is back; close() aborts a waiting register()', async () => {
    await using etcd = await startEtcd();
    const { registrar, lines } = testRegistrar(etcd);
    let pending: Promise<unknown> | undefined;
    await etcd.restart({
      whileDown: async () => {
        pending = registrar.register({ service: 'greeter', host: '127.0.0.1', port: 50051 });
        await waitFor(() => lines.some((l) => l.includes('could not grant a lease; retrying')), { message: 'a failed grant' });
      },
    });
    await pending;
    expect(await keyInfo(etcd, '/services/greeter/127.0.0.1:50051')).toEqual({ value: '', lease: registrar.leaseId! });
    await registrar.close({ graceMs: 0 });
    expect(await keysUnder(etcd)).toEqual([]);

    const other = testRegistrar(etcd, { etcd: { endpoints: ['http://127.0.0.1:1'] } });
    const waiting = other.registrar.register({ service: 'greeter', host: '127.0.0.1', port: 1 });
    await waitFor(() => other.lines.some((l) => l.includes('could not grant a lease')), { message: 'a failed grant' });
    await other.registrar.close({ graceMs: 0 });
    await expect(waiting).rejects.toThrow('the registrar is closed');
  }, 20_000);

  test('close() while etcd is down gives up deleting after the lease TTL (the key goes with the lease) instead of waiting for etcd', async () => {
    await using etcd = await startEtcd();
    const { registrar, lines } = testRegistrar(etcd);
    await registrar.register({ service: 'greeter', host: '127.0.0.1', port: 50051 });
    let closedInMs = -1;
    await etcd.restart({
      whileDown: async () => {
        const t0 = Date.now();
        await registrar.close({ graceMs: 0 });
        closedInMs = Date.now() - t0;
      },
    });
    expect(closedInMs).toBeGreaterThanOrEqual(TTL * 1000 - 100);
    expect(closedInMs).toBeLessThan(TTL * 1000 + 5_000);
    expect(lines.some((l) => l.includes('gave up deleting /services/greeter/127.0.0.1:50051 after 2 s; it goes with its lease'))).toBe(true);
    // etcd renews a lease's TTL when it restarts, and the registrar no longer keeps it alive.
    await waitFor(async () => (await keysUnder(etcd)).length === 0, { timeoutMs: 10_000, message: 'the key to go with its lease' });
  }, 30_000);

  test('bad input is rejected before anything is written, with every problem named', async () => {
    await using etcd = await startEtcd();
    const { registrar } = testRegistrar(etcd);
    try {
      const attempt = registrar.register({ service: 'Greeter', host: 'greeter.local', port: 0, weight: 0, priority: 200 });
      await expect(attempt).rejects.toBeInstanceOf(SwitchyardError);
      await expect(attempt).rejects.toMatchObject({
        code: Code.InvalidArgument,
        message:
          `cannot register Greeter at greeter.local:0: service name "Greeter" may only contain lowercase letters, digits, '.', '-' and '_', starting and ending with a letter or digit; ` +
          'host "greeter.local" is not an IP address: register the IPv4 or IPv6 address clients dial, such as 10.0.0.7 or ::1 (host names are not resolved); ' +
          'port must be an integer from 1 to 65535, got 0; weight must be an integer from 1 to 1000000, got 0; priority must be an integer from 0 to 128, got 200',
      });
      expect(registrar.leaseId).toBeUndefined(); // nothing granted
      await registrar.register({ service: 'greeter', host: '127.0.0.1', port: 1 });
      await expect(registrar.register({ service: 'greeter', host: '127.0.0.1', port: 1 })).rejects.toThrow(
        '/services/greeter/127.0.0.1:1 is already registered by this registrar',
      );
      expect(() => createRegistrar({ etcd: etcd.client, ttlSeconds: 0 })).toThrow('ttlSeconds must be a whole number of seconds from 1');
      expect(() => createRegistrar({ etcd: etcd.client, prefix: 'services' })).toThrow('prefix must start with "/"');
    } finally {
      await closeQuietly(registrar);
    }
  }, 20_000);

  test('a client passed in is used with its namespace-free keys and never closed by the registrar', async () => {
    await using etcd = await startEtcd();
    const client = etcd.newClient();
    const registrar = createRegistrar({ etcd: client, prefix: '/reg', ttlSeconds: TTL, logger: createLogger({ level: 'silent' }) });
    await registrar.register({ service: 'greeter', host: '127.0.0.1', port: 1 });
    expect(await keysUnder(etcd, '/reg/')).toEqual(['/reg/greeter/127.0.0.1:1']);
    await registrar.close({ graceMs: 0 });
    expect(await client.get('/reg/greeter/127.0.0.1:1').string()).toBeNull(); // still usable
  }, 20_000);
});

describe('register()', () => {
  test('one instance with a lease of its own; close() drains, deletes the key and revokes the lease', async () => {
    await using etcd = await startEtcd();
    const reg = await register({
      etcd: { endpoints: [etcd.endpoint] },
      service: 'greeter',
      address: '127.0.0.1',
      port: 50051,
      ttl: TTL,
      priority: 1,
      logger: createLogger({ level: 'silent' }),
    });
    const info = await keyInfo(etcd, reg.key);
    expect(info?.value).toBe('{"priority":1}');
    expect((await leaseTtl(etcd, info!.lease)).granted).toBe(TTL);

    const closing = reg.close({ graceMs: 500 });
    await waitFor(async () => (await keyInfo(etcd, reg.key))?.value === '{"priority":1,"draining":true}', { message: 'draining mark' });
    await closing;
    expect(reg.state).toBe('closed');
    expect(await keyInfo(etcd, reg.key)).toBeUndefined();
    expect((await leaseTtl(etcd, info!.lease)).ttl).toBe(-1);
  }, 20_000);

  test('address and host are the same thing; giving two different ones is an error', async () => {
    await expect(
      register({ etcd: { endpoints: ['http://127.0.0.1:1'] }, service: 'greeter', address: '10.0.0.1', host: '10.0.0.2', port: 1 }),
    ).rejects.toThrow('register: give address or host, not both ("10.0.0.1" and "10.0.0.2")');
  }, 20_000);
});
