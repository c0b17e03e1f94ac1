/**
 * S1 propagation at scale: etcd write → every one of N subscribed clients holds the new endpoint set,
 * for N = 1, 100, 1000, over SotW and Delta, next to a plain etcd watcher's latency for the same writes.
 *
 * etcd and the control plane (`pushDebounceMs: 0`, its own process) run on core 0; this driver (the
 * writer) and the load generator (N proxyless-style clients following LDS→RDS→CDS→EDS for `bench-svc`,
 * plus the etcd watcher) on core 1. Both observers are stamped by the same process with the same clock.
 * Changes alternate put/delete so every endpoint set is new, one change in flight at a time.
 *
 * Usage: bun bench/s1-propagation.ts [--quick] [--changes 100] [--warmup 5] [--sizes 1,100,1000]
 *          [--protocols sotw,delta] [--gap-ms 10] [--change-timeout-ms 10000] [--no-pin] [--profile]
 * @module
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { now } from './lib/clock.ts';
import { ackMode, startFleet, type Protocol } from './lib/load.ts';
import { writeResults } from './lib/machine.ts';
import { BASE_PORT, instanceKey } from './lib/registry.ts';
import { deadline, failer, intFlag, round, startStack } from './lib/stack.ts';
import { formatTable, summarize, type Summary } from './lib/stats.ts';

const SCENARIO = 's1-propagation';
const SERVICE = 'bench-svc';
const fail = failer(SCENARIO);

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    changes: { type: 'string', default: '100' },
    warmup: { type: 'string', default: '5' },
    sizes: { type: 'string', default: '1,100,1000' },
    protocols: { type: 'string', default: 'sotw,delta' },
    'gap-ms': { type: 'string', default: '10' },
    'change-timeout-ms': { type: 'string', default: '10000' },
    'no-pin': { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (flags.help) {
  console.log('usage: bun bench/s1-propagation.ts [--quick] [--changes N] [--warmup N] [--sizes 1,100,1000] [--protocols sotw,delta] [--gap-ms MS] [--change-timeout-ms MS] [--no-pin] [--profile]');
  process.exit(0);
}
const params = {
  service: SERVICE,
  sizes: (flags.quick ? '1,10' : flags.sizes!).split(',').map((s) => intFlag(fail, 'sizes', s)),
  protocols: (flags.quick ? 'sotw,delta' : flags.protocols!).split(',') as Protocol[],
  changes: flags.quick ? 6 : intFlag(fail, 'changes', flags.changes),
  warmupChanges: flags.quick ? 2 : intFlag(fail, 'warmup', flags.warmup, 0),
  gapMs: intFlag(fail, 'gap-ms', flags['gap-ms'], 0),
  changeTimeoutMs: intFlag(fail, 'change-timeout-ms', flags['change-timeout-ms']),
  pushDebounceMs: 0,
  clients: 'proxyless-style (LDS→RDS→CDS→EDS for bench-svc, ACK every response), one HTTP/2 connection each, one load process',
  acks: ackMode(),
  pinned: false,
};
for (const p of params.protocols) if (p !== 'sotw' && p !== 'delta') fail(`--protocols: unknown protocol ${p}`);
const budgetMs = 60_000 + params.sizes.length * params.protocols.length * (30_000 + (params.changes + params.warmupChanges) * 600);
const cancelDeadline = deadline(budgetMs, fail);

const profileDir = flags.profile ? path.join(import.meta.dir, 'results', 'profiles') : undefined;
const stack = await startStack({
  pin: !flags['no-pin'],
  debounceMs: 0,
  fail,
  profileDir,
  beforeControlPlane: async (etcd) => void (await etcd.put(instanceKey(SERVICE, BASE_PORT)).value('')),
});
params.pinned = stack.pinned;
const { cp, etcd } = stack;

interface Sample {
  op: 'put' | 'delete';
  etcdMs: number;
  firstMs: number;
  medianMs: number;
  lastMs: number;
  builtMs: number;
  firstWrittenMs: number;
  lastWrittenMs: number;
}
interface Run {
  protocol: Protocol;
  clients: number;
  connectMs: number;
  measured: number;
  timedOut: number;
  superseded: number;
  etcdWatch: Summary;
  firstClient: Summary;
  medianClient: Summary;
  allClients: Summary;
  addedOverEtcd: Summary;
  stages: { snapshotBuilt: Summary; firstEdsWritten: Summary; lastEdsWritten: Summary };
  controlPlaneCpuSeconds: number;
  loadCpuSeconds: number;
  wallSeconds: number;
  clockCheck: { offsetMs: number; uncertaintyMs: number };
  responses: Record<string, number>;
  streamErrors: number;
}

// Change j (global, 1-based) puts instance ceil(j/2) when odd, deletes instance j/2 - 1 when even: the
// endpoint set alternates {k-1, k} / {k} and never repeats.
let j = 0;
const runs: Run[] = [];
for (const protocol of params.protocols) {
  for (const n of params.sizes) runs.push(await measure(protocol, n));
}
await stack.stop();
cancelDeadline();
report();

async function measure(protocol: Protocol, n: number): Promise<Run> {
  const fleet = startFleet({ xds: cp.ready.xds, processes: 1, pin: stack.pinned, onUnexpectedExit: fail });
  const etcdWaiters = new Map<string, (t: number) => void>();
  await fleet.watchEtcd(stack.etcdProcess.endpoint, `/services/${SERVICE}/`, (e) => etcdWaiters.get(`${e.op} ${e.key}`)?.(e.t));
  const added = await fleet.add(protocol, 'proxyless', Array.from({ length: n }, () => [SERVICE]), { timeoutMs: 60_000 });
  if (added.ready !== n) fail(`${protocol} N=${n}: only ${added.ready} of ${n} clients got the first endpoint set (${added.failed} failed)`);
  const clockCheck = await fleet.clockOffset();
  const samples: Sample[] = [];
  let timedOut = 0;
  let superseded = 0;
  const cpu0 = cp.procCpuSeconds();
  const load0 = await fleet.stats();
  const wall0 = now();
  for (let c = 0; c < params.warmupChanges + params.changes; c++) {
    j++;
    const op = j % 2 === 1 ? 'put' : 'delete';
    const k = Math.ceil(j / 2);
    const key = instanceKey(SERVICE, BASE_PORT + (op === 'put' ? k : k - 1));
    const ports = (op === 'put' ? [k - 1, k] : [k]).map((i) => BASE_PORT + i);
    await cp.mark();
    const etcdSeen = new Promise<number | undefined>((resolve) => {
      const timer = setTimeout(() => (etcdWaiters.delete(`${op} ${key}`), resolve(undefined)), params.changeTimeoutMs);
      etcdWaiters.set(`${op} ${key}`, (t) => (clearTimeout(timer), etcdWaiters.delete(`${op} ${key}`), resolve(t)));
    });
    const t0 = now();
    const heldP = fleet.expect(SERVICE, ports, params.changeTimeoutMs);
    if (op === 'put') await etcd.put(key).value('');
    else await etcd.delete().key(key);
    const [etcdT, held] = await Promise.all([etcdSeen, heldP]);
    const marks = await cp.marks();
    if (c >= params.warmupChanges) {
      if (held.missing > 0 || etcdT === undefined) timedOut++;
      else if (held.superseded) superseded++;
      else
        samples.push({
          op,
          etcdMs: etcdT - t0,
          firstMs: held.first - t0,
          medianMs: held.median - t0,
          lastMs: held.last - t0,
          builtMs: marks.firstBuiltAt - t0,
          firstWrittenMs: marks.firstEdsAt - t0,
          lastWrittenMs: marks.lastEdsAt - t0,
        });
    }
    if (params.gapMs > 0) await Bun.sleep(params.gapMs);
  }
  const wallSeconds = (now() - wall0) / 1000;
  const load1 = await fleet.stats();
  const cpuSeconds = cp.procCpuSeconds() - cpu0;
  await fleet.stop();
  // Let the control plane notice the closed streams before the next size starts.
  for (let i = 0; i < 100 && (await cp.stats()).streams > 0; i++) await Bun.sleep(50);
  const s = (f: (x: Sample) => number) => summarize(samples.map(f));
  const run: Run = {
    protocol,
    clients: n,
    connectMs: round(added.ms),
    measured: samples.length,
    timedOut,
    superseded,
    etcdWatch: s((x) => x.etcdMs),
    firstClient: s((x) => x.firstMs),
    medianClient: s((x) => x.medianMs),
    allClients: s((x) => x.lastMs),
    addedOverEtcd: s((x) => x.lastMs - x.etcdMs),
    stages: { snapshotBuilt: s((x) => x.builtMs), firstEdsWritten: s((x) => x.firstWrittenMs), lastEdsWritten: s((x) => x.lastWrittenMs) },
    controlPlaneCpuSeconds: round(cpuSeconds),
    loadCpuSeconds: round((load1.cpuUserUs + load1.cpuSystemUs - load0.cpuUserUs - load0.cpuSystemUs) / 1e6),
    wallSeconds: round(wallSeconds),
    clockCheck,
    responses: load1.responses,
    streamErrors: load1.streamErrors,
  };
  console.error(`  ${protocol} N=${n}: all clients p50 ${run.allClients.p50} ms, p99 ${run.allClients.p99} ms (${samples.length} changes)`);
  return run;
}

function report(): void {
  const targets = [
    { clients: 100, p50: 5, p99: 15 },
    { clients: 1000, p50: 25, p99: 60 },
  ];
  const targetCheck = targets.flatMap((t) => {
    const r = runs.find((x) => x.protocol === 'delta' && x.clients === t.clients);
    return r ? [{ ...t, protocol: 'delta', measuredP50: r.addedOverEtcd.p50, measuredP99: r.addedOverEtcd.p99, met: r.addedOverEtcd.p50 <= t.p50 && r.addedOverEtcd.p99 <= t.p99 }] : [];
  });
  const converged = runs.every((r) => r.timedOut === 0 && r.measured > 0 && r.streamErrors === 0);
  console.log(`\nS1 propagation: etcd write -> all N clients hold the new endpoints, ms (debounce 0; ${params.changes} changes per row; ACKs ${params.acks})`);
  console.log(
    formatTable(
      ['protocol', 'N', 'etcd p50', 'etcd p99', 'all p50', 'all p99', 'all max', 'added p50', 'added p99', 'median-client p50', 'built p50', 'last EDS written p50', 'CP cpu s', 'load cpu s'],
      runs.map((r) => [
        r.protocol,
        String(r.clients),
        r.etcdWatch.p50,
        r.etcdWatch.p99,
        r.allClients.p50,
        r.allClients.p99,
        r.allClients.max,
        r.addedOverEtcd.p50,
        r.addedOverEtcd.p99,
        r.medianClient.p50,
        r.stages.snapshotBuilt.p50,
        r.stages.lastEdsWritten.p50,
        r.controlPlaneCpuSeconds,
        r.loadCpuSeconds,
      ]),
    ),
  );
  for (const t of targetCheck) {
    console.log(`target delta N=${t.clients}: added p50 ${t.measuredP50} <= ${t.p50} ms and p99 ${t.measuredP99} <= ${t.p99} ms: ${t.met ? 'met' : 'MISSED'}`);
  }
  const bad = runs.filter((r) => r.timedOut > 0 || r.streamErrors > 0);
  for (const r of bad) console.log(`${r.protocol} N=${r.clients}: ${r.timedOut} changes timed out, ${r.streamErrors} stream errors`);
  console.log(`pinned: ${params.pinned}; clock offset of the load process ${runs[0]?.clockCheck.offsetMs.toFixed(3)} ms ± ${runs[0]?.clockCheck.uncertaintyMs.toFixed(3)}`);
  const file = writeResults(SCENARIO, {
    machine: stack.machine,
    parameters: params,
    results: { runs, targets: targetCheck },
    checks: { converged },
  });
  console.log(`wrote ${file}`);
  if (!converged) process.exit(1);
}
