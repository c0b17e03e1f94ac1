import { createServer, connect, type AddressInfo, type Socket } from 'node:net';
import { once } from 'node:events';
import type { Etcd3 } from 'etcd3';
import { createEtcdClient, type EtcdClientOptions } from '../../src/registry/etcd-client.ts';
import { startEtcdProcess, type EtcdProcess } from '../../src/registry/etcd-process.ts';
import { waitFor } from './wait-for.ts';

export interface TestEtcd extends AsyncDisposable {
  readonly endpoint: string;
  /** Ready client for writing keys; closed on dispose. */
  readonly client: Etcd3;
  readonly process: EtcdProcess;
  /** Another client (e.g. for the code under test), closed on dispose. */
  newClient(options?: Partial<EtcdClientOptions>): Etcd3;
  /** Stops etcd, runs `whileDown`, starts it on the same ports and data, and resolves once `client` works again. */
  restart(options?: { whileDown?: () => unknown }): Promise<void>;
}

/** A real etcd on free ports in a temp dir: `await using etcd = await startEtcd()`. */
export async function startEtcd(): Promise<TestEtcd> {
  const proc = await startEtcdProcess();
  const clients: Etcd3[] = [];
  const newClient = (options: Partial<EtcdClientOptions> = {}) => {
    const c = createEtcdClient({ endpoints: [proc.endpoint], ...options });
    clients.push(c);
    return c;
  };
  const client = newClient();
  const dispose = async () => {
    for (const c of clients) c.close();
    await proc.stop();
  };
  try {
    await untilReady(client);
  } catch (e) {
    await dispose();
    throw e;
  }
  return {
    endpoint: proc.endpoint,
    client,
    process: proc,
    newClient,
    async restart(options) {
      await proc.restart(options);
      await untilReady(client);
    },
    [Symbol.asyncDispose]: dispose,
  };
}

// After a restart the client's circuit breaker may stay open for up to 5 s (etcd-notes §2.5).
const untilReady = (client: Etcd3) =>
  waitFor(async () => (await client.get('/__harness_probe__').string(), true), {
    timeoutMs: 15_000,
    intervalMs: 100,
    message: 'etcd client to answer a get',
  });

export interface TcpProxy extends AsyncDisposable {
  /** `http://127.0.0.1:PORT` forwarding to the target. */
  readonly endpoint: string;
  /** Drops every open connection and refuses new ones until `restore()`, like a network cut. */
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

/** A loopback TCP proxy to cut one client off etcd while others keep writing (a restart cannot do that). */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let isCut = false;
  const track = (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
  };
  const server = createServer((downstream) => {
    track(downstream);
    if (isCut) return void downstream.destroy();
    const upstream = connect(targetPort, '127.0.0.1');
    track(upstream);
    downstream.pipe(upstream).pipe(downstream);
    downstream.once('close', () => upstream.destroy());
    upstream.once('close', () => downstream.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const dropAll = () => {
    for (const s of sockets) s.destroy();
  };
  const close = async () => {
    dropAll();
    await new Promise<void>((r) => server.close(() => r()));
  };
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    cut() {
      isCut = true;
      dropAll();
    },
    restore() {
      isCut = false;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
