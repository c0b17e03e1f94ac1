/**
 * S3 cold start: 10,000 services × 10 instances (100k keys) already in etcd; the control-plane process
 * starts and becomes ready (first snapshot built, port bound); its heap after a full GC; then 1,000
 * clients connect at once and each must hold its full config. Optionally a few Envoy-style wildcard
 * clients (CDS wildcard + EDS for every cluster) connect afterwards.
 *
 * Clients: proxyless-style, client i follows LDS→RDS→CDS→EDS for `--services-per-client` services
 * (i·k … i·k+k-1 mod services), which is what a gRPC client dialing a few xds:/// targets does.
 * Every client's endpoints are checked against etcd at the end of each phase.
 *
 * Usage: bun bench/s3-cold-start.ts [--quick] [--services 10000] [--instances 10] [--clients 1000]
 *          [--services-per-client 5] [--protocols sotw,delta] [--envoy-clients 10] [--processes 2] [--no-pin] [--profile]
 * @module
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { now } from './lib/clock.ts';
import { startFleet, type Mode, type Protocol } from './lib/load.ts';
import { writeResults } from './lib/machine.ts';
import { bulkPut, catalogKeys, etcdServices, serviceName } from './lib/registry.ts';
import { deadline, failer, intFlag, mib, round, startStack } from './lib/stack.ts';
import { formatTable } from './lib/stats.ts';

const SCENARIO = 's3-cold-start';
const fail = failer(SCENARIO);
const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    services: { type: 'string', default: '10000' },
    instances: { type: 'string', default: '10' },
    clients: { type: 'string', default: '1000' },
    'services-per-client': { type: 'string', default: '5' },
    protocols: { type: 'string', default: 'sotw,delta' },
    'envoy-clients': { type: 'string', default: '10' },
    processes: { type: 'string', default: '2' },
    'no-pin': { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (flags.help) {
  console.log('usage: bun bench/s3-cold-start.ts [--quick] [--services N] [--instances N] [--clients N] [--services-per-client N] [--protocols sotw,delta] [--envoy-clients N] [--processes N] [--no-pin] [--profile]');
  process.exit(0);
}
const q = flags.quick;
const params = {
  services: q ? 200 : intFlag(fail, 'services', flags.services),
  instances: q ? 3 : intFlag(fail, 'instances', flags.instances),
  clients: q ? 20 : intFlag(fail, 'clients', flags.clients),
  servicesPerClient: intFlag(fail, 'services-per-client', flags['services-per-client']),
  protocols: flags.protocols!.split(',') as Protocol[],
  envoyClients: q ? 2 : intFlag(fail, 'envoy-clients', flags['envoy-clients'], 0),
  processes: q ? 1 : intFlag(fail, 'processes', flags.processes),
  pushDebounceMs: 0,
  pinned: false,
};
const cancelDeadline = deadline(240_000 + params.services * 10 + params.clients * 40 + params.envoyClients * params.services, fail);

let preloadMs = 0;
const stack = await startStack({
  pin: !flags['no-pin'],
  debounceMs: 0,
  fail,
  profileDir: flags.profile ? path.join(import.meta.dir, 'results', 'profiles') : undefined,
  beforeControlPlane: async (etcd) => void (preloadMs = await bulkPut(etcd, catalogKeys(params.services, params.instances, 5))),
});
params.pinned = stack.pinned;
const { cp } = stack;
const ready = cp.ready;
if (ready.services !== params.services) fail(`the control plane was ready with ${ready.services} services, expected ${params.services}`);
// Ready means serving; the rest of the encoding goes on in the background. The heap is measured once it is done.
let encodedMs = 0;
for (;;) {
  const st = await cp.stats();
  if (st.deferred === 0) break;
  if (now() - ready.t > 60_000) fail(`cold start still had ${st.deferred} services to encode 60 s after ready`);
  encodedMs = now() - ready.t;
  await Bun.sleep(10);
}
const afterReady = await cp.gcStats();
const expected = await etcdServices(stack.etcd);

interface Phase {
  name: string;
  protocol: Protocol;
  mode: Mode;
  clients: number;
  /** Connect command → every client holds endpoints for everything it subscribed to. */
  allHoldMs: number;
  ready: number;
  failed: number;
  checked: number;
  mismatched: number;
  examples: string[];
  controlPlaneCpuSeconds: number;
  controlPlaneRssAfter: number;
  responses: Record<string, number>;
  bytes: number;
}
const phases: Phase[] = [];
for (const protocol of params.protocols) {
  const k = params.servicesPerClient;
  const clients = Array.from({ length: params.clients }, (_, i) => Array.from({ length: k }, (_, j) => serviceName((i * k + j) % params.services, 5)));
  phases.push(await phase(`${protocol} proxyless ×${params.clients}`, protocol, 'proxyless', clients));
}
if (params.envoyClients > 0) {
  phases.push(await phase(`delta wildcard ×${params.envoyClients}`, 'delta', 'wildcard', Array.from({ length: params.envoyClients }, () => [])));
}
await stack.stop();
cancelDeadline();
report();

async function phase(name: string, protocol: Protocol, mode: Mode, clients: string[][]): Promise<Phase> {
  const fleet = startFleet({ xds: ready.xds, processes: Math.min(params.processes, clients.length), pin: stack.pinned, onUnexpectedExit: fail });
  await Promise.all(fleet.processes.map((p) => p.request({ cmd: 'ping', t0: 0 }, 30_000).catch(() => undefined)));
  await Bun.sleep(100); // every load process has started and loaded its modules before the clock starts
  const cpu0 = cp.procCpuSeconds();
  const t0 = now();
  const added = await fleet.add(protocol, mode, clients, { concurrency: clients.length, timeoutMs: 120_000 });
  const allHoldMs = now() - t0;
  const cpuSeconds = cp.procCpuSeconds() - cpu0;
  const v = await fleet.verify(expected);
  const st = await fleet.stats();
  const cps = await cp.stats();
  await fleet.stop();
  for (let i = 0; i < 100 && (await cp.stats()).streams > 0; i++) await Bun.sleep(50);
  console.error(`  ${name}: all hold their config after ${allHoldMs.toFixed(0)} ms (${added.ready}/${clients.length} ready, ${v.mismatched} mismatched)`);
  return {
    name,
    protocol,
    mode,
    clients: clients.length,
    allHoldMs: round(allHoldMs),
    ready: added.ready,
    failed: added.failed,
    checked: v.checked,
    mismatched: v.mismatched,
    examples: v.examples,
    controlPlaneCpuSeconds: round(cpuSeconds),
    controlPlaneRssAfter: cps.rss,
    responses: st.responses,
    bytes: st.bytes,
  };
}

function report(): void {
  const modelHeap = afterReady.heapUsed - ready.heapBeforeStart;
  const readyMs = ready.processToReadyMs;
  const main = phases.filter((p) => p.mode === 'proxyless');
  const worstConnect = Math.max(...main.map((p) => p.allHoldMs));
  const targets = {
    readyMs: { target: 1500, measured: round(readyMs), met: readyMs <= 1500 },
    modelHeapBytes: { target: 150e6, measured: modelHeap, met: modelHeap <= 150e6 },
    clientsAllHoldMs: { target: 10_000, measured: worstConnect, met: worstConnect <= 10_000 },
  };
  console.log(`\nS3 cold start: ${params.services} services × ${params.instances} instances (${params.services * params.instances} keys) in etcd`);
  console.log(
    formatTable(
      ['measure', 'value'],
      [
        ['preload into etcd (not part of start), ms', round(preloadMs)],
        ['spawn → ready (driver clock), ms', round(cp.spawnToReadyMs)],
        ['process start → ready (incl. Bun start, imports), ms', round(readyMs)],
        ['createSwitchyard → ready (list, build, bind), ms', round(ready.startToReadyMs)],
        ['ready → every service encoded (in the background), ms', round(encodedMs)],
        ['heap used before createSwitchyard, MiB', mib(ready.heapBeforeStart)],
        ['heap used once encoded (after full GC), MiB', mib(afterReady.heapUsed)],
        ['model heap (after − before), MiB', mib(modelHeap)],
        ['RSS after ready, MiB', mib(afterReady.rss)],
      ],
    ),
  );
  console.log('\nclients connecting at once → all hold their config');
  console.log(
    formatTable(
      ['phase', 'all hold ms', 'ready', 'mismatched', 'CP cpu s', 'CP RSS after MiB', 'MiB received'],
      phases.map((p) => [p.name, p.allHoldMs, `${p.ready}/${p.clients}`, String(p.mismatched), p.controlPlaneCpuSeconds, mib(p.controlPlaneRssAfter), mib(p.bytes)]),
    ),
  );
  for (const p of phases) for (const e of p.examples) console.log(`  ${p.name}: ${e}`);
  console.log(
    `targets: ready ${targets.readyMs.measured} <= 1500 ms: ${targets.readyMs.met ? 'met' : 'MISSED'}; model heap ${mib(modelHeap)} MiB <= 150 MB: ${targets.modelHeapBytes.met ? 'met' : 'MISSED'}; ` +
      `${params.clients} clients all hold ${worstConnect} <= 10000 ms: ${targets.clientsAllHoldMs.met ? 'met' : 'MISSED'}`,
  );
  const converged = phases.every((p) => p.ready === p.clients && p.mismatched === 0 && p.failed === 0);
  const file = writeResults(SCENARIO, {
    machine: stack.machine,
    parameters: { ...params, preloadMs: round(preloadMs) },
    results: {
      start: {
        spawnToReadyMs: round(cp.spawnToReadyMs),
        processToReadyMs: round(readyMs),
        startToReadyMs: round(ready.startToReadyMs),
        readyToEncodedMs: round(encodedMs),
        heapBeforeStart: ready.heapBeforeStart,
        heapAfterEncoded: afterReady.heapUsed,
        modelHeap,
        rssAfterReady: afterReady.rss,
      },
      phases,
      targets,
    },
    checks: { converged },
  });
  console.log(`wrote ${file}`);
  if (!converged) process.exit(1);
}
