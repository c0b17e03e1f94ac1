/**
 * The load generator: many ADS clients in one process, each on its own HTTP/2 connection (a bare HTTP/2
 * client, lib/h2.ts; `--transport http2` uses node:http2 instead; no grpc-js channel per client), so
 * thousands fit in one process on one core.
 * Each client ACKs every response and decodes only what tells it what it holds: names along the
 * LDS→RDS→CDS→EDS chain and, for endpoints, the sorted port list (decoded once per distinct resource
 * content: Delta per name@version, SotW per content hash, then shared by every client).
 *
 * ACKs (`--acks deferred`, the default) are written once the generator's sockets have been quiet for
 * 0.5 ms, or 50 ms after the oldest waiting one: real clients each write their ACK on their own CPU, so
 * one client's ACK never delays another's read, while here 1,000 clients share one core and the ACK
 * writes were about 40% of its CPU. A client that sends a request first writes its waiting
 * ACKs, so its messages stay in order. `--acks immediate` writes each ACK as its response is read.
 *
 * Subscription modes (per `add` command):
 *   proxyless  like a gRPC client: LDS for each of its services, then RDS, CDS, EDS for the names each
 *              resource references (the Listener's route, the route's cluster, the cluster's EDS name);
 *   eds        EDS only, for the given names (a client that already has its clusters);
 *   wildcard   like Envoy: wildcard CDS, then EDS for every cluster's EDS name.
 *
 * stdin commands (JSON lines; replies carry the same `re`):
 *   {cmd:'add', protocol:'sotw'|'delta', mode, clients: string[][], concurrency?, timeoutMs?}
 *        connects one client per entry (its services) and replies {kind:'added', ready, failed, total, ms}
 *        once each new client holds endpoints for everything it subscribed to (or at the timeout);
 *   {cmd:'expect', id, service, ports, timeoutMs}  no reply; later {kind:'held', id, n, first, median, last,
 *        missing, superseded}: when every client subscribed to `service` holds exactly `ports` (times are
 *        clock.ts stamps of each client's arrival; n = 0 when no client here subscribes to it);
 *   {cmd:'verify', expected: {service: ports[]}}  → {kind:'verified', checked, mismatched, examples}
 *   {cmd:'stats'} → {kind:'stats', clients, ready, streamErrors, responses, bytes, acks, cpuUserUs, ...}
 *   {cmd:'watch-etcd', endpoint, prefix} → {kind:'watching'}, then {kind:'etcd', op, key, t} per event
 *   {cmd:'ping', t0} → {kind:'pong', t0, t1}
 * stdin EOF: closes every connection and exits.
 * @module
 */
import http2 from 'node:http2';
import { emit, serveStdin } from './child.ts';
import { GrpcH2Stream } from './h2.ts';
import { now } from './clock.ts';
import {
  claPorts,
  clusterEdsName,
  encodeDeltaRequest,
  encodeSotwRequest,
  grpcFrame,
  listenerRouteName,
  readDeltaResponse,
  readSotwResponse,
  resourceName,
  routeClusterName,
  type NodeSpec,
} from './wire.ts';

const [LDS, RDS, CDS, EDS] = [
  'type.googleapis.com/envoy.config.listener.v3.Listener',
  'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
] as const;
const SHORT: Record<string, string> = { [LDS]: 'LDS', [RDS]: 'RDS', [CDS]: 'CDS', [EDS]: 'EDS' };
const ADS = '/envoy.service.discovery.v3.AggregatedDiscoveryService/';

type Protocol = 'sotw' | 'delta';
type Mode = 'proxyless' | 'eds' | 'wildcard';

/** What a client holds for one EDS name; shared by every client holding the same content. */
interface Endpoints {
  readonly sig: string;
}

const argv = process.argv;
const address = argv.includes('--xds') ? argv[argv.indexOf('--xds') + 1] : undefined;
/** `raw`: lib/h2.ts (default, lean); `http2`: node:http2 (to cross-check the raw client). */
const transport = argv.includes('--transport') ? argv[argv.indexOf('--transport') + 1] : 'raw';
const acks = argv.includes('--acks') ? argv[argv.indexOf('--acks') + 1] : 'deferred';
if (!address || (transport !== 'raw' && transport !== 'http2') || (acks !== 'deferred' && acks !== 'immediate')) {
  process.stderr.write('usage: bun bench/lib/load-client.ts --xds HOST:PORT [--transport raw|http2] [--acks deferred|immediate]\n');
  process.exit(2);
}

const totals = { responses: {} as Record<string, number>, bytes: 0, acks: 0, streamErrors: 0, decodes: 0 };
const clients: Client[] = [];
/** EDS name → clients that want it. */
const bySvc = new Map<string, Set<Client>>();
const edsCache = new Map<string | number | bigint, Endpoints>();

function edsState(key: string | number | bigint, body: Uint8Array): Endpoints {
  let e = edsCache.get(key);
  if (!e) {
    if (edsCache.size > 500_000) edsCache.clear();
    e = { sig: claPorts(body).join(',') };
    totals.decodes++;
    edsCache.set(key, e);
  }
  return e;
}

// --- expectations ----------------------------------------------------------------------------------

interface Expectation {
  id: number;
  service: string;
  sig: string;
  deadline: number;
  pending: Set<Client>;
  times: number[];
}
const expectations = new Map<string, Expectation>();

function settle(e: Expectation, outcome: 'held' | 'timeout' | 'superseded'): void {
  expectations.delete(e.service);
  const times = e.times.sort((a, b) => a - b);
  emit({
    kind: 'held',
    id: e.id,
    n: times.length + e.pending.size,
    first: times[0] ?? 0,
    median: times[Math.floor((times.length - 1) / 2)] ?? 0,
    last: times.at(-1) ?? 0,
    missing: e.pending.size,
    superseded: outcome === 'superseded',
  });
}

function expect(id: number, service: string, ports: number[], timeoutMs: number): void {
  const previous = expectations.get(service);
  if (previous) settle(previous, 'superseded');
  const e: Expectation = { id, service, sig: ports.join(','), deadline: Date.now() + timeoutMs, pending: new Set(), times: [] };
  for (const c of bySvc.get(service) ?? []) {
    if (c.eds.get(service)?.sig === e.sig) e.times.push(c.edsAt.get(service)!);
    else e.pending.add(c);
  }
  if (e.pending.size === 0) {
    expectations.set(service, e);
    settle(e, 'held');
  } else expectations.set(service, e);
}

setInterval(() => {
  const t = Date.now();
  for (const e of [...expectations.values()]) if (t > e.deadline) settle(e, 'timeout');
}, 100).unref();

// --- one client -------------------------------------------------------------------------------------

interface SotwType {
  names: Set<string>;
  version: string;
  nonce: string;
}

class Client {
  private conn: { send(msg: Uint8Array): void; close(): void } | undefined;
  private pending: Buffer | undefined;
  private readonly sotw = new Map<string, SotwType>();
  private readonly delta = new Map<string, Set<string>>();
  private sentNode = false;
  /** EDS names wanted; `ready` once all are held (wildcard: and CDS arrived). */
  readonly wantEds = new Set<string>();
  readonly eds = new Map<string, Endpoints>();
  readonly edsAt = new Map<string, number>();
  private cdsSeen = false;
  ready = false;
  failed = false;
  onReady: (() => void) | undefined;

  constructor(
    readonly index: number,
    private readonly protocol: Protocol,
    private readonly mode: Mode,
    private readonly services: readonly string[],
  ) {}

  private get nodeSpec(): NodeSpec {
    return this.mode === 'wildcard'
      ? { id: `envoy-${process.pid}-${this.index}`, userAgentName: 'envoy' }
      : { id: `grpc-${process.pid}-${this.index}`, userAgentName: 'grpc-node-js', clientFeatures: ['envoy.lb.does_not_support_overprovisioning'] };
  }

  start(): void {
    const method = ADS + (this.protocol === 'sotw' ? 'StreamAggregatedResources' : 'DeltaAggregatedResources');
    if (transport === 'raw') {
      const h2 = new GrpcH2Stream(address!, method, {
        onMessage: (msg) => this.onMessage(msg),
        onEnd: (why) => {
          if (!closing) this.fail(why);
        },
      });
      this.conn = { send: (m) => h2.send(m), close: () => h2.close() };
    } else {
      const session = http2.connect(`http://${address}`, { settings: { initialWindowSize: 1 << 20 } });
      session.on('error', (e) => this.fail(`connection: ${e.message}`));
      const stream = session.request({ ':method': 'POST', ':path': method, 'content-type': 'application/grpc', te: 'trailers' }, { endStream: false });
      stream.on('data', (chunk: Buffer) => this.onData(chunk));
      stream.on('error', (e) => this.fail(`stream: ${e.message}`));
      stream.on('trailers', (t) => {
        if (!closing) this.fail(`stream ended: grpc-status ${t['grpc-status']} ${t['grpc-message'] ?? ''}`);
      });
      stream.on('close', () => {
        if (!closing) this.fail('stream closed');
      });
      this.conn = {
        send: (m) => void stream.write(grpcFrame(m)),
        close: () => (stream.close(), session.close()),
      };
    }
    switch (this.mode) {
      case 'proxyless':
        this.want(LDS, this.services);
        break;
      case 'eds':
        this.want(EDS, this.services);
        break;
      case 'wildcard':
        this.want(CDS, []);
        break;
    }
  }

  close(): void {
    this.conn?.close();
  }

  private fail(why: string): void {
    if (this.failed) return;
    this.failed = true;
    totals.streamErrors++;
    if (totals.streamErrors <= 5) process.stderr.write(`load-client: client ${this.index}: ${why}\n`);
    this.onReady?.();
  }

  /** ACKs waiting for the generator's sockets to go quiet (`--acks deferred`). */
  private readonly waitingAcks: Uint8Array[] = [];

  private write(msg: Uint8Array): void {
    this.writeAcks();
    this.conn?.send(msg);
  }

  private ack(msg: Uint8Array): void {
    totals.acks++;
    if (acks === 'immediate') return void this.conn?.send(msg);
    this.waitingAcks.push(msg);
    ackQueue.add(this);
  }

  writeAcks(): void {
    for (const m of this.waitingAcks) this.conn?.send(m);
    this.waitingAcks.length = 0;
  }

  /** Subscribes `typeUrl` to more names (an empty first list is wildcard). */
  private want(typeUrl: string, names: Iterable<string>): void {
    const node = this.sentNode ? undefined : this.nodeSpec;
    this.sentNode = true;
    const list = [...names];
    if (typeUrl === EDS) {
      for (const n of list) {
        if (this.wantEds.has(n)) continue;
        this.wantEds.add(n);
        let set = bySvc.get(n);
        if (!set) bySvc.set(n, (set = new Set()));
        set.add(this);
      }
    }
    if (this.protocol === 'sotw') {
      let t = this.sotw.get(typeUrl);
      const fresh = !t;
      if (!t) this.sotw.set(typeUrl, (t = { names: new Set(), version: '', nonce: '' }));
      const before = t.names.size;
      for (const n of list) t.names.add(n);
      if (!fresh && t.names.size === before) return;
      this.write(encodeSotwRequest({ node, typeUrl, names: t.names, versionInfo: t.version, nonce: t.nonce }));
    } else {
      let subscribed = this.delta.get(typeUrl);
      const fresh = !subscribed;
      if (!subscribed) this.delta.set(typeUrl, (subscribed = new Set()));
      const added = list.filter((n) => !subscribed!.has(n));
      for (const n of added) subscribed.add(n);
      if (!fresh && added.length === 0) return;
      this.write(encodeDeltaRequest({ node, typeUrl, subscribe: added }));
    }
  }

  /** Wildcard CDS dropped clusters: stop wanting their endpoints. */
  private unwantEds(names: readonly string[]): void {
    if (names.length === 0) return;
    for (const n of names) {
      this.wantEds.delete(n);
      this.eds.delete(n);
      bySvc.get(n)?.delete(this);
      expectations.get(n)?.pending.delete(this);
    }
    if (this.protocol === 'sotw') {
      const t = this.sotw.get(EDS);
      if (!t) return;
      for (const n of names) t.names.delete(n);
      this.write(encodeSotwRequest({ typeUrl: EDS, names: t.names, versionInfo: t.version, nonce: t.nonce }));
    } else {
      for (const n of names) this.delta.get(EDS)?.delete(n);
      this.write(encodeDeltaRequest({ typeUrl: EDS, unsubscribe: names }));
    }
  }

  private onData(chunk: Buffer): void {
    let buf = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = undefined;
    let off = 0;
    while (buf.length - off >= 5) {
      const len = buf.readUInt32BE(off + 1);
      if (buf.length - off - 5 < len) break;
      const msg = buf.subarray(off + 5, off + 5 + len);
      off += 5 + len;
      this.onMessage(msg);
    }
    if (off < buf.length) this.pending = Buffer.from(buf.subarray(off));
  }

  private onMessage(msg: Uint8Array): void {
    ackQueue.lastReadAt = performance.now();
    totals.bytes += msg.length + 5;
    try {
      if (this.protocol === 'sotw') this.onSotw(msg);
      else this.onDelta(msg);
    } catch (e) {
      this.fail(`bad response: ${e instanceof Error ? e.message : e}`);
    }
  }

  private onSotw(msg: Uint8Array): void {
    const t = now();
    const r = readSotwResponse(msg);
    count(r.typeUrl);
    const st = this.sotw.get(r.typeUrl);
    if (!st) return;
    st.version = r.versionInfo;
    st.nonce = r.nonce;
    this.ack(encodeSotwRequest({ typeUrl: r.typeUrl, names: st.names, versionInfo: r.versionInfo, nonce: r.nonce }));
    switch (r.typeUrl) {
      case LDS:
        return this.want(RDS, r.resources.map(listenerRouteName).filter((n): n is string => !!n));
      case RDS:
        return this.want(CDS, r.resources.map(routeClusterName).filter((n): n is string => !!n));
      case CDS: {
        const names = r.resources.map(clusterEdsName);
        if (this.mode === 'wildcard') {
          this.cdsSeen = true;
          const keep = new Set(names);
          this.unwantEds([...this.wantEds].filter((n) => !keep.has(n)));
        }
        this.want(EDS, names);
        return this.checkReady();
      }
      case EDS:
        for (const body of r.resources) this.hold(resourceName(body), edsState(Bun.hash(body), body), t);
        return this.checkReady();
    }
  }

  private onDelta(msg: Uint8Array): void {
    const t = now();
    const r = readDeltaResponse(msg);
    count(r.typeUrl);
    this.ack(encodeDeltaRequest({ typeUrl: r.typeUrl, nonce: r.nonce }));
    switch (r.typeUrl) {
      case LDS:
        return this.want(RDS, r.resources.map((x) => listenerRouteName(x.body)).filter((n): n is string => !!n));
      case RDS:
        return this.want(CDS, r.resources.map((x) => routeClusterName(x.body)).filter((n): n is string => !!n));
      case CDS:
        if (this.mode === 'wildcard') {
          this.cdsSeen = true;
          // Removed clusters' EDS names are their own names (Switchyard's convention).
          this.unwantEds(r.removed);
        }
        this.want(EDS, r.resources.map((x) => clusterEdsName(x.body)));
        return this.checkReady();
      case EDS:
        for (const x of r.resources) this.hold(x.name, edsState(`${x.name}\0${x.version}`, x.body), t);
        for (const name of r.removed) this.hold(name, EMPTY, t);
        return this.checkReady();
    }
  }

  private hold(name: string, state: Endpoints, t: number): void {
    if (!this.wantEds.has(name)) return;
    this.eds.set(name, state);
    this.edsAt.set(name, t);
    const e = expectations.get(name);
    if (e && e.sig === state.sig && e.pending.delete(this)) {
      e.times.push(t);
      if (e.pending.size === 0) settle(e, 'held');
    }
  }

  private checkReady(): void {
    if (this.ready) return;
    if (this.mode === 'wildcard' ? !this.cdsSeen : this.wantEds.size < this.services.length) return;
    for (const n of this.wantEds) if (!this.eds.has(n)) return;
    this.ready = true;
    this.onReady?.();
  }
}

const EMPTY: Endpoints = { sig: '' };

/** Clients with ACKs waiting, written together once reads pause (see the module comment). */
const ackQueue = {
  clients: new Set<Client>(),
  lastReadAt: 0,
  oldestAt: 0,
  timer: undefined as ReturnType<typeof setTimeout> | undefined,
  add(c: Client): void {
    this.clients.add(c);
    if (this.timer) return;
    this.oldestAt = performance.now();
    this.timer = setTimeout(() => this.check(), 1);
  },
  check(): void {
    const t = performance.now();
    if (t - this.lastReadAt < 0.5 && t - this.oldestAt < 50) {
      this.timer = setTimeout(() => this.check(), 1);
      return;
    }
    this.timer = undefined;
    for (const c of this.clients) c.writeAcks();
    this.clients.clear();
  },
};

function count(typeUrl: string): void {
  const k = SHORT[typeUrl] ?? typeUrl;
  totals.responses[k] = (totals.responses[k] ?? 0) + 1;
}

// --- commands ---------------------------------------------------------------------------------------

let closing = false;

async function add(msg: { re: number; protocol: Protocol; mode: Mode; clients: string[][]; concurrency?: number; timeoutMs?: number }): Promise<void> {
  const t0 = now();
  const fresh = msg.clients.map((services, i) => new Client(clients.length + i, msg.protocol, msg.mode, services));
  clients.push(...fresh);
  const limit = msg.concurrency ?? 200;
  const deadline = Date.now() + (msg.timeoutMs ?? 60_000);
  let next = 0;
  let settled = 0;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
    const launch = () => {
      while (next < fresh.length && next - settled < limit) {
        const c = fresh[next++]!;
        c.onReady = () => {
          c.onReady = undefined;
          settled++;
          if (settled === fresh.length) {
            clearTimeout(timer);
            resolve();
          } else launch();
        };
        c.start();
      }
    };
    launch();
  });
  const ready = fresh.filter((c) => c.ready && !c.failed).length;
  emit({ kind: 'added', re: msg.re, ready, failed: fresh.filter((c) => c.failed).length, total: clients.length, ms: now() - t0 });
}

function verify(msg: { re: number; expected: Record<string, number[]> }): void {
  let checked = 0;
  let mismatched = 0;
  const examples: string[] = [];
  for (const c of clients) {
    for (const name of c.wantEds) {
      checked++;
      const want = (msg.expected[name] ?? []).join(',');
      const got = c.eds.get(name)?.sig;
      if (got === want) continue;
      mismatched++;
      if (examples.length < 5) examples.push(`client ${c.index} ${name}: holds [${got ?? 'nothing'}], etcd has [${want}]`);
    }
  }
  emit({ kind: 'verified', re: msg.re, checked, mismatched, examples });
}

let etcdClient: { close(): void } | undefined;
async function watchEtcd(msg: { re: number; endpoint: string; prefix: string }): Promise<void> {
  const { createEtcdClient } = await import('../../src/registry/etcd-client.ts');
  const etcd = createEtcdClient({ endpoints: [msg.endpoint] });
  etcdClient = etcd;
  const watcher = await etcd.watch().prefix(msg.prefix).create();
  watcher.on('put', (kv) => emit({ kind: 'etcd', op: 'put', key: kv.key.toString(), t: now() }));
  watcher.on('delete', (kv) => emit({ kind: 'etcd', op: 'delete', key: kv.key.toString(), t: now() }));
  emit({ kind: 'watching', re: msg.re });
}

await serveStdin((msg: any) => {
  switch (msg.cmd) {
    case 'add':
      return add(msg);
    case 'expect':
      return expect(msg.id, msg.service, msg.ports, msg.timeoutMs ?? 10_000);
    case 'verify':
      return verify(msg);
    case 'watch-etcd':
      return watchEtcd(msg);
    case 'ping':
      return emit({ kind: 'pong', re: msg.re, t0: msg.t0, t1: now() });
    case 'stats': {
      const cpu = process.cpuUsage();
      return emit({
        kind: 'stats',
        re: msg.re,
        clients: clients.length,
        ready: clients.filter((c) => c.ready && !c.failed).length,
        ...totals,
        edsStates: edsCache.size,
        cpuUserUs: cpu.user,
        cpuSystemUs: cpu.system,
        rss: process.memoryUsage().rss,
        t: now(),
      });
    }
    default:
      throw new Error(`unknown command ${msg.cmd}`);
  }
});
closing = true;
for (const c of clients) c.close();
etcdClient?.close();
setTimeout(() => process.exit(0), 200);
