/**
 * Instances registered in a real etcd the way services do it: one key per instance under a lease with keepalive.
 *
 * @example
 *   await using reg = await registerInstance(etcd.client, instanceKey(greeter.address));
 *   await reg.revoke(); // the key goes away with the lease
 */
import type { Etcd3, Lease } from 'etcd3';

export interface Registration extends AsyncDisposable {
  readonly key: string;
  readonly lease: Lease;
  /** Revokes the lease; etcd deletes the key in the same revision. */
  revoke(): Promise<void>;
}

export async function registerInstance(
  client: Etcd3,
  key: string,
  { ttlSeconds = 10, value = '' }: { ttlSeconds?: number; value?: string } = {},
): Promise<Registration> {
  const lease = client.lease(ttlSeconds, { autoKeepAlive: true });
  // A keepalive failing while etcd shuts down at the end of a test is expected, not a test failure.
  lease.on('lost', () => {});
  await lease.put(key).value(value);
  return {
    key,
    lease,
    revoke: () => lease.revoke(),
    // Only stop the keepalive: etcd itself is torn down with the test.
    [Symbol.asyncDispose]: async () => lease.release(),
  };
}

/** Registers every key; one disposable for all of them. */
export async function registerAll(client: Etcd3, keys: readonly string[]) {
  const regs = await Promise.all(keys.map((k) => registerInstance(client, k)));
  return Object.assign(regs, {
    [Symbol.asyncDispose]: async () => {
      for (const r of regs) await r[Symbol.asyncDispose]();
    },
  });
}
