/**
 * Driver side of `load-client.ts`: one or more load-generator processes (pinned to the load core), with
 * clients spread over them and answers combined as if they were one.
 * @module
 */
import path from 'node:path';
import { spawnJsonChild, type JsonChild, type Message } from './child.ts';
import { now } from './clock.ts';

export type Protocol = 'sotw' | 'delta';
export type Mode = 'proxyless' | 'eds' | 'wildcard';

export interface Held {
  /** Clients subscribed to the service (over all processes). */
  n: number;
  /** Clients that did not get there before the timeout. */
  missing: number;
  superseded: boolean;
  /** clock.ts stamps: first client, median client (of the process with the most), last client. */
  first: number;
  median: number;
  last: number;
}

export interface LoadStats {
  clients: number;
  ready: number;
  streamErrors: number;
  responses: Record<string, number>;
  bytes: number;
  acks: number;
  decodes: number;
  cpuUserUs: number;
  cpuSystemUs: number;
  rss: number;
}

export interface Fleet {
  readonly processes: readonly JsonChild[];
  /** Adds clients (each a list of services), spread round-robin; resolves when all hold their config. */
  add(protocol: Protocol, mode: Mode, clients: string[][], opts?: { concurrency?: number; timeoutMs?: number }): Promise<{ ready: number; failed: number; ms: number }>;
  /** Resolves when every subscriber of `service` holds exactly `ports` (or the timeout passed). */
  expect(service: string, ports: readonly number[], timeoutMs: number): Promise<Held>;
  verify(expected: Record<string, number[]>): Promise<{ checked: number; mismatched: number; examples: string[] }>;
  stats(): Promise<LoadStats>;
  /** Starts a plain etcd watch in the first process; `onEvent` gets each event with its stamp. */
  watchEtcd(endpoint: string, prefix: string, onEvent: (e: { op: string; key: string; t: number }) => void): Promise<void>;
  /** Offset of the first process's clock from ours (ms) and its uncertainty (half the best round trip). */
  clockOffset(rounds?: number): Promise<{ offsetMs: number; uncertaintyMs: number }>;
  stop(): Promise<void>;
}

/**
 * How the load generators write ACKs: `deferred` (until their sockets are quiet; load-client.ts says why) unless
 * SWITCHYARD_BENCH_ACKS=immediate.
 */
export function ackMode(): 'deferred' | 'immediate' {
  return process.env.SWITCHYARD_BENCH_ACKS === 'immediate' ? 'immediate' : 'deferred';
}

export function startFleet(o: { xds: string; processes: number; core?: number; pin: boolean; onUnexpectedExit: (why: string) => void }): Fleet {
  const script = path.join(import.meta.dir, 'load-client.ts');
  // SWITCHYARD_BENCH_PROFILE_LOAD=<dir>: CPU profiles of the load processes (to check the generator is not the bottleneck).
  const profDir = process.env.SWITCHYARD_BENCH_PROFILE_LOAD;
  const prof = profDir ? ['--cpu-prof', '--cpu-prof-md', `--cpu-prof-dir=${profDir}`] : [];
  // SWITCHYARD_BENCH_TRANSPORT=http2: clients on node:http2 instead of the bare lib/h2.ts (a cross-check).
  const transport = process.env.SWITCHYARD_BENCH_TRANSPORT === 'http2' ? 'http2' : 'raw';
  const processes = Array.from({ length: o.processes }, (_, i) =>
    spawnJsonChild([process.execPath, ...prof, script, '--xds', o.xds, '--transport', transport, '--acks', ackMode()], {
      name: `load-${i}`,
      core: o.core ?? 1,
      pin: o.pin,
      onUnexpectedExit: (code, signal) => o.onUnexpectedExit(`load process ${i} exited early (${signal ?? `code ${code}`})`),
    }),
  );
  let nextId = 0;
  const heldWaiters = new Map<number, { left: number; acc: Held; resolve: (h: Held) => void }>();
  for (const p of processes) {
    p.on('held', (m) => {
      const w = heldWaiters.get(m.id);
      if (!w) return;
      const a = w.acc;
      if (m.n > 0) {
        a.first = a.n === 0 ? m.first : Math.min(a.first, m.first);
        a.last = Math.max(a.last, m.last);
        if (m.n > a.n) a.median = m.median;
      }
      a.n += m.n;
      a.missing += m.missing;
      a.superseded ||= m.superseded;
      if (--w.left === 0) {
        heldWaiters.delete(m.id);
        w.resolve(a);
      }
    });
  }
  const all = <T extends Message>(msg: object, timeoutMs?: number) => Promise.all(processes.map((p) => p.request<T>(msg, timeoutMs)));

  return {
    processes,
    async add(protocol, mode, clients, opts = {}) {
      const shares = processes.map(() => [] as string[][]);
      clients.forEach((c, i) => shares[i % processes.length]!.push(c));
      const timeoutMs = opts.timeoutMs ?? 60_000;
      const t0 = now();
      const replies = await Promise.all(
        processes.map((p, i) =>
          p.request({ cmd: 'add', protocol, mode, clients: shares[i], concurrency: opts.concurrency, timeoutMs }, timeoutMs + 30_000),
        ),
      );
      return { ready: sum(replies, 'ready'), failed: sum(replies, 'failed'), ms: now() - t0 };
    },
    expect(service, ports, timeoutMs) {
      const id = ++nextId;
      return new Promise((resolve) => {
        heldWaiters.set(id, { left: processes.length, acc: { n: 0, missing: 0, superseded: false, first: 0, median: 0, last: 0 }, resolve });
        for (const p of processes) p.send({ cmd: 'expect', id, service, ports, timeoutMs });
      });
    },
    async verify(expected) {
      const r = await all({ cmd: 'verify', expected }, 120_000);
      return { checked: sum(r, 'checked'), mismatched: sum(r, 'mismatched'), examples: r.flatMap((x) => x.examples).slice(0, 5) };
    },
    async stats() {
      const r = await all({ cmd: 'stats' });
      const responses: Record<string, number> = {};
      for (const x of r) for (const [k, v] of Object.entries(x.responses as Record<string, number>)) responses[k] = (responses[k] ?? 0) + v;
      return {
        clients: sum(r, 'clients'),
        ready: sum(r, 'ready'),
        streamErrors: sum(r, 'streamErrors'),
        responses,
        bytes: sum(r, 'bytes'),
        acks: sum(r, 'acks'),
        decodes: sum(r, 'decodes'),
        cpuUserUs: sum(r, 'cpuUserUs'),
        cpuSystemUs: sum(r, 'cpuSystemUs'),
        rss: sum(r, 'rss'),
      };
    },
    async watchEtcd(endpoint, prefix, onEvent) {
      processes[0]!.on('etcd', (m) => onEvent(m as never));
      await processes[0]!.request({ cmd: 'watch-etcd', endpoint, prefix });
    },
    async clockOffset(rounds = 20) {
      let best = { offsetMs: 0, uncertaintyMs: Infinity };
      const p = processes[0]!;
      for (let i = 0; i < rounds; i++) {
        const t0 = now();
        const pong = p.next((m) => m.kind === 'pong' && m.t0 === t0, 2_000, 'a clock-check pong');
        p.send({ cmd: 'ping', t0 });
        const m = await pong;
        const t2 = now();
        if ((t2 - t0) / 2 < best.uncertaintyMs) best = { offsetMs: m.t1 - (t0 + t2) / 2, uncertaintyMs: (t2 - t0) / 2 };
      }
      return best;
    },
    async stop() {
      await Promise.all(processes.map((p) => p.stop()));
    },
  };
}

const sum = (xs: readonly Message[], k: string) => xs.reduce((n, x) => n + (Number(x[k]) || 0), 0);
