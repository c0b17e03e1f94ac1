/**
 * S4 churn: a steady stream of registration changes (default 1,000 events/s, put and delete alternating
 * over random services of 10,000) while 1,000 Delta clients each watch the endpoints of 20 services, for
 * several minutes. Per 10 s window: latency from the write until every subscriber of the changed service
 * holds the new endpoint set (p50/p99/max), control-plane CPU (from /proc/<pid>/stat) and RSS. At the
 * end every client's endpoints are compared with what etcd holds.
 *
 * Subscriptions: client i watches services i·k … i·k+k-1 (mod services), so with 1,000 × 20 each service
 * has exactly 2 subscribers and every event is observed. Events alternate: "put" registers a new instance
 * (the service's next port from 20000 up) of a random service; "delete" removes the lowest-port (oldest)
 * instance of a random service that has more than half its starting instances. A service's endpoint set
 * thus never repeats. Writes are not awaited one by one: the writer keeps the rate with up to
 * `--max-in-flight` writes outstanding and counts what it had to skip.
 *
 * RSS is sampled every second. Its drift is the change of its mean from the first third of the run (after
 * the warm-up) to the last: each third spans several cycles of the collector, whose heap doubles between
 * full collections (40-70 s apart here), so the means compare like with like where two single samples
 * would compare two points of that sawtooth.
 *
 * Usage: bun bench/s4-churn.ts [--quick] [--duration 600] [--rate 1000] [--services 10000] [--instances 10]
 *          [--clients 1000] [--services-per-client 20] [--window 10] [--warmup 10] [--protocol delta] [--processes 2]
 *          [--debounce-ms 5] [--max-delay-ms 100] [--no-pin] [--profile] [--leak-bytes-per-change N]
 * @module
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { now } from './lib/clock.ts';
import { startFleet, type Protocol } from './lib/load.ts';
import { writeResults } from './lib/machine.ts';
import { BASE_PORT, bulkPut, catalogKeys, etcdServices, instanceKey, serviceName } from './lib/registry.ts';
import { deadline, failer, intFlag, mib, round, startStack } from './lib/stack.ts';
import { formatTable, summarize, type Summary } from './lib/stats.ts';

const SCENARIO = 's4-churn';
const fail = failer(SCENARIO);
const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    duration: { type: 'string', default: '600' },
    rate: { type: 'string', default: '1000' },
    services: { type: 'string', default: '10000' },
    instances: { type: 'string', default: '10' },
    clients: { type: 'string', default: '1000' },
    'services-per-client': { type: 'string', default: '20' },
    window: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '10' },
    protocol: { type: 'string', default: 'delta' },
    processes: { type: 'string', default: '2' },
    'debounce-ms': { type: 'string', default: '5' },
    'max-delay-ms': { type: 'string', default: '100' },
    'max-in-flight': { type: 'string', default: '2000' },
    'event-timeout-ms': { type: 'string', default: '10000' },
    'leak-bytes-per-change': { type: 'string', default: '0' },
    'no-pin': { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (flags.help) {
  console.log('usage: bun bench/s4-churn.ts [--quick] [--duration S] [--rate N] [--services N] [--instances N] [--clients N] [--services-per-client N] [--window S] [--warmup S] [--protocol delta|sotw] [--processes N] [--debounce-ms MS] [--max-delay-ms MS] [--no-pin] [--profile] [--leak-bytes-per-change N]');
  process.exit(0);
}
const q = flags.quick;
const params = {
  durationS: q ? 4 : intFlag(fail, 'duration', flags.duration),
  rate: q ? 200 : intFlag(fail, 'rate', flags.rate),
  services: q ? 200 : intFlag(fail, 'services', flags.services),
  instances: q ? 3 : intFlag(fail, 'instances', flags.instances),
  clients: q ? 20 : intFlag(fail, 'clients', flags.clients),
  servicesPerClient: q ? 10 : intFlag(fail, 'services-per-client', flags['services-per-client']),
  windowS: q ? 1 : intFlag(fail, 'window', flags.window),
  warmupS: q ? 1 : intFlag(fail, 'warmup', flags.warmup, 0),
  protocol: flags.protocol as Protocol,
  processes: q ? 1 : intFlag(fail, 'processes', flags.processes),
  pushDebounceMs: intFlag(fail, 'debounce-ms', flags['debounce-ms'], 0),
  pushMaxDelayMs: intFlag(fail, 'max-delay-ms', flags['max-delay-ms'], 0),
  maxInFlight: intFlag(fail, 'max-in-flight', flags['max-in-flight']),
  eventTimeoutMs: intFlag(fail, 'event-timeout-ms', flags['event-timeout-ms']),
  leakBytesPerChange: intFlag(fail, 'leak-bytes-per-change', flags['leak-bytes-per-change'], 0),
  pinned: false,
};
const cancelDeadline = deadline(300_000 + params.durationS * 1000 + params.services * 10, fail);

let preloadMs = 0;
const stack = await startStack({
  pin: !flags['no-pin'],
  debounceMs: params.pushDebounceMs,
  maxDelayMs: params.pushMaxDelayMs,
  fail,
  profileDir: flags.profile ? path.join(import.meta.dir, 'results', 'profiles') : undefined,
  leakBytesPerChange: params.leakBytesPerChange,
  beforeControlPlane: async (etcd) => void (preloadMs = await bulkPut(etcd, catalogKeys(params.services, params.instances, 5))),
});
params.pinned = stack.pinned;
const { cp, etcd } = stack;

const fleet = startFleet({ xds: cp.ready.xds, processes: params.processes, pin: stack.pinned, onUnexpectedExit: fail });
const k = params.servicesPerClient;
const subscriptions = Array.from({ length: params.clients }, (_, i) => Array.from({ length: k }, (_, j) => serviceName((i * k + j) % params.services, 5)));
const added = await fleet.add(params.protocol, 'eds', subscriptions, { timeoutMs: 60_000 });
if (added.ready !== params.clients) fail(`only ${added.ready} of ${params.clients} clients got their endpoints`);

// --- the writer --------------------------------------------------------------------------------------
// Every service's endpoint set only moves forward: a put adds the service's next new port, a delete
// removes its lowest port (oldest instance). So no set ever comes back, and an expectation can only be
// met by the change it was made for.
const ports = new Map<string, Set<number>>(); // the state the writer believes etcd has, per service
const nextPort = new Map<string, number>();
for (let s = 0; s < params.services; s++) {
  const name = serviceName(s, 5);
  ports.set(name, new Set(Array.from({ length: params.instances }, (_, i) => BASE_PORT + i)));
  nextPort.set(name, 20_000);
}
/** A delete never takes a service below this many instances (it picks another service). */
const minInstances = Math.max(1, Math.ceil(params.instances / 2));
const randomService = () => serviceName(Math.floor(Math.random() * params.services), 5);

interface EventRecord {
  t0: number;
  op: 'put' | 'delete';
  latencyMs?: number;
  /** Until etcd answered the write (committed): etcd's own share of the latency under this load. */
  commitMs?: number;
  outcome?: 'held' | 'timeout' | 'superseded' | 'unobserved';
}
const events: EventRecord[] = [];
const writer = { issued: 0, skipped: 0, inFlight: 0, maxInFlightSeen: 0, writeErrors: 0 };
const settled = new Set<Promise<unknown>>();

function issue(): void {
  if (writer.inFlight >= params.maxInFlight) {
    writer.skipped++;
    return;
  }
  const op: 'put' | 'delete' = writer.issued % 2 === 0 ? 'put' : 'delete';
  let service = randomService();
  let port: number;
  if (op === 'put') {
    port = nextPort.get(service)!;
    nextPort.set(service, port + 1);
    if (port > 65_535) fail(`service ${service} ran out of ports`);
    ports.get(service)!.add(port);
  } else {
    for (let tries = 0; ports.get(service)!.size <= minInstances && tries < 100; tries++) service = randomService();
    port = Math.min(...ports.get(service)!);
    ports.get(service)!.delete(port);
  }
  const key = instanceKey(service, port);
  writer.issued++;
  const rec: EventRecord = { t0: now(), op };
  events.push(rec);
  const held = fleet.expect(service, [...ports.get(service)!].sort((a, b) => a - b), params.eventTimeoutMs).then((h) => {
    rec.outcome = h.n === 0 ? 'unobserved' : h.superseded ? 'superseded' : h.missing > 0 ? 'timeout' : 'held';
    if (rec.outcome === 'held') rec.latencyMs = h.last - rec.t0;
  });
  writer.inFlight++;
  writer.maxInFlightSeen = Math.max(writer.maxInFlightSeen, writer.inFlight);
  const write = (op === 'put' ? etcd.put(key).value('') : etcd.delete().key(key)).then(
    () => void (writer.inFlight--, (rec.commitMs = now() - rec.t0)),
    () => void (writer.inFlight--, writer.writeErrors++),
  );
  for (const p of [held, write]) {
    settled.add(p);
    p.finally(() => settled.delete(p));
  }
}

interface Window {
  endS: number;
  cpuCores: number;
  rss: number;
  heapUsed: number;
}
const windows: Window[] = [];
/** RSS every second, from /proc: seconds since the churn started, bytes. */
const rssSamples: { t: number; rss: number }[] = [];
// Memory after a full GC, before the churn and after it: the heap then is what is retained, whatever the GC's
// phase (RSS keeps its high-water mark).
const retainedBefore = await cp.gcStats();
const cpu0 = cp.procCpuSeconds();
const tStart = now();
let lastCpu = cpu0;
let lastT = tStart;
let nextWindow = tStart + params.windowS * 1000;
let nextRssSample = tStart;
const end = tStart + params.durationS * 1000;
console.error(`  churn: ${params.rate} events/s for ${params.durationS} s over ${params.services} services, ${params.clients} ${params.protocol} clients × ${k} services`);
while (now() < end) {
  const due = Math.min(Math.floor(((now() - tStart) / 1000) * params.rate), Math.floor(((end - tStart) / 1000) * params.rate));
  const burst = Math.min(due - writer.issued - writer.skipped, Math.ceil(params.rate / 10));
  for (let i = 0; i < burst; i++) issue();
  // anything still due after the burst cap is skipped rather than sent in a catch-up flood
  if (due - writer.issued - writer.skipped > params.rate / 5) writer.skipped += due - writer.issued - writer.skipped;
  if (now() >= nextRssSample) {
    rssSamples.push({ t: round((now() - tStart) / 1000, 3), rss: cp.procRssBytes() });
    nextRssSample += 1000;
  }
  if (now() >= nextWindow) {
    const t = now();
    const cpu = cp.procCpuSeconds();
    const s = await cp.stats();
    windows.push({ endS: round((t - tStart) / 1000, 1), cpuCores: round((cpu - lastCpu) / ((t - lastT) / 1000)), rss: s.rss, heapUsed: s.heapUsed });
    const recent = events.filter((e) => e.t0 >= lastT && e.latencyMs !== undefined).map((e) => e.latencyMs!);
    const sm = summarize(recent);
    console.error(`  t=${windows.at(-1)!.endS}s: ${recent.length} held so far, p50 ${sm.p50} ms, p99 ${sm.p99} ms, CP ${windows.at(-1)!.cpuCores} cores, RSS ${mib(s.rss)} MiB, in flight ${writer.inFlight}`);
    lastCpu = cpu;
    lastT = t;
    nextWindow += params.windowS * 1000;
  }
  await Bun.sleep(5);
}
const writerWallS = (now() - tStart) / 1000;
const cpuTotal = cp.procCpuSeconds() - cpu0;
// Drain: every write answered and every expectation settled (each has its own timeout).
const drainUntil = Date.now() + params.eventTimeoutMs + 10_000;
while (settled.size > 0 && Date.now() < drainUntil) await Bun.sleep(50);
await Bun.sleep(1000);
const retainedAfter = await cp.gcStats();
const finalState = await etcdServices(etcd);
const verify = await fleet.verify(finalState);
const loadStats = await fleet.stats();
const cpFinal = await cp.stats();
await fleet.stop();
await stack.stop();
cancelDeadline();

// --- report -----------------------------------------------------------------------------------------
const perWindow = windows.map((w, i) => {
  const from = tStart + (i === 0 ? 0 : windows[i - 1]!.endS * 1000);
  const to = tStart + w.endS * 1000;
  const inWindow = events.filter((e) => e.t0 >= from && e.t0 < to);
  return {
    ...w,
    events: inWindow.length,
    latency: summarize(inWindow.flatMap((e) => e.latencyMs ?? [])),
    etcdCommitP99: summarize(inWindow.flatMap((e) => e.commitMs ?? [])).p99,
    timedOut: inWindow.filter((e) => e.outcome === 'timeout').length,
  };
});
const count = (o: EventRecord['outcome']) => events.filter((e) => e.outcome === o).length;
// The first seconds run code the JIT has not optimized yet, right after the preload and a forced GC: they are
// reported, and the steady state after them is what the targets judge.
const steadyFrom = tStart + params.warmupS * 1000;
const steady = events.filter((e) => e.t0 >= steadyFrom);
const warmupLatency: Summary = summarize(events.flatMap((e) => (e.t0 < steadyFrom ? (e.latencyMs ?? []) : [])));
const withWarmup: Summary = summarize(events.flatMap((e) => e.latencyMs ?? []));
const overall: Summary = summarize(steady.flatMap((e) => e.latencyMs ?? []));
const commit: Summary = summarize(steady.flatMap((e) => e.commitMs ?? []));
const afterCommit: Summary = summarize(steady.flatMap((e) => (e.latencyMs !== undefined && e.commitMs !== undefined ? Math.max(0, e.latencyMs - e.commitMs) : [])));
const cpuAvg = cpuTotal / writerWallS;
const steadyWindows = windows.filter((w) => w.endS - params.windowS >= params.warmupS);
const rssFirst = steadyWindows[0]?.rss ?? windows[0]?.rss ?? cp.ready.rss;
const rssLast = windows.at(-1)?.rss ?? cpFinal.rss;
const rssPointToPoint = (rssLast - rssFirst) / rssFirst;
const rss = rssThirds(rssSamples.filter((s) => s.t >= params.warmupS).map((s) => s.rss));
const rssDrift = (rss.last.mean - rss.first.mean) / rss.first.mean;
const retainedRssDrift = (retainedAfter.rss - retainedBefore.rss) / retainedBefore.rss;
const retainedHeapDrift = (retainedAfter.heapUsed - retainedBefore.heapUsed) / retainedBefore.heapUsed;
const targets = {
  p99Ms: { target: 300, measured: overall.p99, met: overall.p99 <= 300 },
  cpuCores: { target: 1, measured: round(cpuAvg), met: cpuAvg <= 1 },
  rssDrift: { target: 0.1, measured: round(rssDrift, 3), basis: 'mean RSS, last third of the steady state against the first', met: rssDrift <= 0.1 },
  clientsOffFinalState: { target: 0, measured: verify.mismatched, met: verify.mismatched === 0 },
};
console.log(`\nS4 churn: ${params.rate} events/s (put/delete) over ${params.services} services, ${params.clients} ${params.protocol} clients × ${k} services' EDS, ${params.durationS} s, debounce ${params.pushDebounceMs} ms`);
console.log(
  formatTable(
    ['window end s', 'events', 'p50 ms', 'p99 ms', 'max ms', 'etcd commit p99', 'timed out', 'CP cores', 'CP RSS MiB', 'CP heap MiB'],
    perWindow.map((w) => [String(w.endS), String(w.events), w.latency.p50, w.latency.p99, w.latency.max, w.etcdCommitP99, String(w.timedOut), w.cpuCores, mib(w.rss), mib(w.heapUsed)]),
  ),
);
console.log(
  `overall: ${events.length} events (${writer.skipped} skipped by the writer), held ${count('held')}, superseded ${count('superseded')}, unobserved ${count('unobserved')}, timed out ${count('timeout')}; ` +
    `latency after the ${params.warmupS} s warm-up p50 ${overall.p50} p99 ${overall.p99} max ${overall.max} ms; ` +
    `during the warm-up p50 ${warmupLatency.p50} p99 ${warmupLatency.p99} ms; all events p50 ${withWarmup.p50} p99 ${withWarmup.p99} ms`,
);
console.log(
  `etcd's share: write answered (committed) p50 ${commit.p50} p99 ${commit.p99} ms; from that answer until both subscribers held it p50 ${afterCommit.p50} p99 ${afterCommit.p99} ms`,
);
console.log(
  `control plane: ${round(cpuAvg)} cores on average; RSS (sampled every second) mean/min/max in the first third of the steady state ${mib(rss.first.mean)}/${mib(rss.first.min)}/${mib(rss.first.max)} MiB, ` +
    `in the last third ${mib(rss.last.mean)}/${mib(rss.last.min)}/${mib(rss.last.max)} MiB: drift ${(rssDrift * 100).toFixed(1)}% of the mean; ` +
    `single samples, first window after the warm-up → last window ${mib(rssFirst)} → ${mib(rssLast)} MiB (${(rssPointToPoint * 100).toFixed(1)}%); ` +
    `after a full GC before → after the churn: RSS ${mib(retainedBefore.rss)} → ${mib(retainedAfter.rss)} MiB (${(retainedRssDrift * 100).toFixed(1)}%), ` +
    `heap ${mib(retainedBefore.heapUsed)} → ${mib(retainedAfter.heapUsed)} MiB (${(retainedHeapDrift * 100).toFixed(1)}%)`,
);
console.log(`final state: ${verify.checked} client subscriptions checked against etcd, ${verify.mismatched} off`);
for (const e of verify.examples) console.log(`  ${e}`);
console.log(
  `targets: p99 ${overall.p99} <= 300 ms ${targets.p99Ms.met ? 'met' : 'MISSED'}; CPU ${round(cpuAvg)} <= 1 core ${targets.cpuCores.met ? 'met' : 'MISSED'}; ` +
    `RSS drift ${(rssDrift * 100).toFixed(1)}% <= 10% ${targets.rssDrift.met ? 'met' : 'MISSED'}; clients off final state ${verify.mismatched} ${targets.clientsOffFinalState.met ? 'met' : 'MISSED'}`,
);
const converged = verify.mismatched === 0 && verify.checked === params.clients * k && loadStats.streamErrors === 0;
const file = writeResults(SCENARIO, {
  machine: stack.machine,
  parameters: { ...params, preloadMs: round(preloadMs) },
  results: {
    windows: perWindow,
    overall,
    warmup: warmupLatency,
    allEvents: withWarmup,
    etcdCommit: commit,
    heldAfterCommit: afterCommit,
    outcomes: { held: count('held'), superseded: count('superseded'), unobserved: count('unobserved'), timeout: count('timeout') },
    writer: { ...writer, events: events.length, achievedRate: round(writer.issued / writerWallS) },
    controlPlane: { cpuSeconds: round(cpuTotal), cpuCoresAvg: round(cpuAvg), rssThirds: rss, rssDrift: round(rssDrift, 4), rssFirstWindow: rssFirst, rssLastWindow: rssLast, rssPointToPoint: round(rssPointToPoint, 4), rssSamples, retainedBefore: { rss: retainedBefore.rss, heapUsed: retainedBefore.heapUsed }, retainedAfter: { rss: retainedAfter.rss, heapUsed: retainedAfter.heapUsed }, retainedRssDrift: round(retainedRssDrift, 4), retainedHeapDrift: round(retainedHeapDrift, 4), responses: cpFinal.responses, responseBytes: cpFinal.responseBytes },
    loadGenerator: loadStats,
    finalCheck: verify,
    targets,
  },
  checks: { converged, finalStateChecked: verify.checked, mismatched: verify.mismatched },
});
console.log(`wrote ${file}`);
if (!converged) process.exit(1);

interface RssPart {
  mean: number;
  min: number;
  max: number;
}

/** Mean, min and max of the first and the last third of a series (of all of it when shorter than 3). */
function rssThirds(values: readonly number[]): { first: RssPart; last: RssPart } {
  const n = Math.max(1, Math.floor(values.length / 3));
  const part = (xs: readonly number[]): RssPart =>
    xs.length === 0 ? { mean: NaN, min: NaN, max: NaN } : { mean: Math.round(xs.reduce((a, b) => a + b, 0) / xs.length), min: Math.min(...xs), max: Math.max(...xs) };
  return { first: part(values.slice(0, n)), last: part(values.slice(-n)) };
}
