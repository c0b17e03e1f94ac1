/**
 * S2 streams: resident memory of the control-plane process per idle ADS stream, up to 10,000 streams,
 * each on its own HTTP/2 connection, with 1,000 services × 10 instances registered.
 *
 * The control plane runs in its own process (core 0, with etcd); the load generators (several processes,
 * core 1) add proxyless-style clients in steps (client i follows LDS→RDS→CDS→EDS for service i mod
 * services). At 0 streams and after each step, once every client holds its endpoints, the control
 * plane is asked for a full GC and its RSS and heap are read.
 *
 * Usage: bun bench/s2-streams.ts [--quick] [--services 1000] [--instances 10] [--steps 1000,5000,10000]
 *          [--protocol sotw|delta] [--processes 4] [--concurrency 200] [--no-pin]
 * @module
 */
import { parseArgs } from 'node:util';
import { startFleet, type Protocol } from './lib/load.ts';
import { writeResults } from './lib/machine.ts';
import { bulkPut, catalogKeys, serviceName } from './lib/registry.ts';
import { deadline, failer, intFlag, mib, round, startStack } from './lib/stack.ts';
import { formatTable } from './lib/stats.ts';

const SCENARIO = 's2-streams';
const fail = failer(SCENARIO);
const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    services: { type: 'string', default: '1000' },
    instances: { type: 'string', default: '10' },
    steps: { type: 'string', default: '1000,5000,10000' },
    protocol: { type: 'string', default: 'sotw' },
    processes: { type: 'string', default: '4' },
    concurrency: { type: 'string', default: '200' },
    'settle-ms': { type: 'string', default: '2000' },
    'no-pin': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (flags.help) {
  console.log('usage: bun bench/s2-streams.ts [--quick] [--services N] [--instances N] [--steps 1000,5000,10000] [--protocol sotw|delta] [--processes N] [--concurrency N] [--settle-ms MS] [--no-pin]');
  process.exit(0);
}
const q = flags.quick;
const params = {
  services: q ? 20 : intFlag(fail, 'services', flags.services),
  instances: q ? 3 : intFlag(fail, 'instances', flags.instances),
  steps: (q ? '20,60' : flags.steps!).split(',').map((s) => intFlag(fail, 'steps', s)),
  protocol: flags.protocol as Protocol,
  processes: q ? 2 : intFlag(fail, 'processes', flags.processes),
  concurrency: intFlag(fail, 'concurrency', flags.concurrency),
  settleMs: q ? 200 : intFlag(fail, 'settle-ms', flags['settle-ms'], 0),
  client: 'proxyless-style: LDS→RDS→CDS→EDS for one service, ACK every response; one HTTP/2 connection per stream',
  pinned: false,
};
if (params.protocol !== 'sotw' && params.protocol !== 'delta') fail(`--protocol must be sotw or delta`);
const maxStreams = Math.max(...params.steps);
const cancelDeadline = deadline(120_000 + maxStreams * 60, fail);

let preloadMs = 0;
const stack = await startStack({
  pin: !flags['no-pin'],
  debounceMs: 0,
  fail,
  beforeControlPlane: async (etcd) => void (preloadMs = await bulkPut(etcd, catalogKeys(params.services, params.instances, 5))),
});
params.pinned = stack.pinned;
const { cp } = stack;
if (cp.ready.services !== params.services) fail(`the control plane has ${cp.ready.services} services, expected ${params.services}`);

interface Point {
  streams: number;
  rss: number;
  heapUsed: number;
  heapTotal: number;
  /** (rss - rss at 0) / streams. */
  rssPerStream: number;
  heapPerStream: number;
  connectMs: number;
  loadRss: number;
  controlPlaneStreams: number;
}
const base = await cp.gcStats();
const points: Point[] = [{ streams: 0, rss: base.rss, heapUsed: base.heapUsed, heapTotal: base.heapTotal, rssPerStream: 0, heapPerStream: 0, connectMs: 0, loadRss: 0, controlPlaneStreams: base.streams }];
const fleet = startFleet({ xds: cp.ready.xds, processes: params.processes, pin: stack.pinned, onUnexpectedExit: fail });
let converged = true;
let have = 0;
for (const target of params.steps) {
  const clients = Array.from({ length: target - have }, (_, i) => [serviceName((have + i) % params.services, 5)]);
  const added = await fleet.add(params.protocol, 'proxyless', clients, { concurrency: params.concurrency, timeoutMs: 30_000 + clients.length * 30 });
  have = target;
  if (added.ready !== clients.length) {
    converged = false;
    console.error(`  step ${target}: only ${added.ready} of ${clients.length} new clients got their endpoints (${added.failed} failed)`);
  }
  await Bun.sleep(params.settleMs);
  const s = await cp.gcStats();
  const load = await fleet.stats();
  if (s.streams !== target) {
    converged = false;
    console.error(`  step ${target}: the control plane counts ${s.streams} open streams`);
  }
  points.push({
    streams: target,
    rss: s.rss,
    heapUsed: s.heapUsed,
    heapTotal: s.heapTotal,
    rssPerStream: Math.round((s.rss - base.rss) / target),
    heapPerStream: Math.round((s.heapUsed - base.heapUsed) / target),
    connectMs: round(added.ms),
    loadRss: load.rss,
    controlPlaneStreams: s.streams,
  });
  console.error(`  ${target} streams: control-plane RSS ${mib(s.rss)} MiB (${added.ms.toFixed(0)} ms to connect ${clients.length})`);
}
const loadStats = await fleet.stats();
await fleet.stop();
await stack.stop();
cancelDeadline();

const last = points.at(-1)!;
const target = { streams: 10_000, maxRssBytes: 1e9 };
const atTarget = points.find((p) => p.streams === target.streams);
console.log(`\nS2 streams: control-plane memory with idle ADS streams (${params.services} services × ${params.instances} instances, ${params.protocol}, one connection per stream)`);
console.log(
  formatTable(
    ['streams', 'RSS MiB', 'heap used MiB', 'RSS/stream bytes', 'heap/stream bytes', 'connect+config ms', 'load RSS MiB'],
    points.map((p) => [String(p.streams), mib(p.rss), mib(p.heapUsed), String(p.rssPerStream), String(p.heapPerStream), p.connectMs, mib(p.loadRss)]),
  ),
);
if (points.length > 2) {
  console.log('marginal bytes per stream between steps: ' + points.slice(1).map((p, i) => `${points[i]!.streams}→${p.streams}: ${Math.round((p.rss - points[i]!.rss) / (p.streams - points[i]!.streams))}`).join(', '));
}
if (atTarget) console.log(`target: ${target.streams} streams with RSS <= 1 GB: ${mib(atTarget.rss)} MiB: ${atTarget.rss <= target.maxRssBytes ? 'met' : 'MISSED'}`);
else console.log(`target (10,000 streams <= 1 GB) not measured: largest step ${last.streams}`);
const file = writeResults(SCENARIO, {
  machine: stack.machine,
  parameters: { ...params, preloadMs: round(preloadMs) },
  results: { points, loadGenerator: loadStats, target: atTarget ? { ...target, rss: atTarget.rss, met: atTarget.rss <= target.maxRssBytes } : undefined },
  checks: { converged },
});
console.log(`wrote ${file}`);
if (!converged) process.exit(1);
