/**
 * S5 cost: what one change costs the control plane.
 *
 * Part 1, in this process (no network): a snapshot store holding 10,000 services × 10 instances, then
 * one-service changes: the catalog update (the registry's catalog state, `applyEvents` with its key index), the store's rebuild and publish
 * (`update` + `flush`: encode the changed service, assemble the new snapshot, tell listeners), and
 * `encodeService` alone for a small and a ~4 KB assignment. None of this depends on the number of clients.
 *
 * Part 2, real processes: the control plane (debounce 0, core 0, with etcd) serves N clients (core 1)
 * that each watch the endpoints of `small` (1 instance) and `large` (enough instances for a ~4 KB
 * ClusterLoadAssignment). One change at a time, each waited for until all N hold it: P "small" pushes
 * (one endpoint added/removed on `small`) and P "large" pushes (one endpoint added/removed on `large`,
 * so the whole ~4 KB assignment goes out). Control-plane CPU time (process.cpuUsage, µs) over the pushes,
 * minus its idle CPU over as long a quiet period, divided by pushes × N, is the CPU per push per client.
 * Two sizes of N also give the marginal cost per extra client (the slope), free of the fixed cost per change.
 *
 * Usage: bun bench/s5-cost.ts [--quick] [--sizes 100,1000] [--protocols delta,sotw] [--pushes 50]
 *          [--services 10000] [--instances 10] [--repeats 200] [--target-cla-bytes 4096] [--no-pin] [--profile]
 * @module
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { CatalogUpdate } from '../src/catalog/apply.ts';
import { instanceDefaults, type Catalog, type CatalogEvent, type Instance } from '../src/catalog/model.ts';
import { createCatalogState } from '../src/registry/catalog-feed.ts';
import { serviceSegment } from '../src/registry/formats/instance-key.ts';
import { silentLogger } from '../src/lib/logger.ts';
import { encodeService } from '../src/xds/snapshot/service.ts';
import { createSnapshotStore } from '../src/xds/snapshot/store.ts';
import { TypeUrl } from '../src/xds/type-urls.ts';
import { now } from './lib/clock.ts';
import { startFleet, type Protocol } from './lib/load.ts';
import { writeResults } from './lib/machine.ts';
import { BASE_PORT, HOST, instanceKey, PREFIX, serviceName } from './lib/registry.ts';
import { deadline, failer, intFlag, round, startStack } from './lib/stack.ts';
import { formatTable, summarize, type Summary } from './lib/stats.ts';

const SCENARIO = 's5-cost';
const fail = failer(SCENARIO);
const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    sizes: { type: 'string', default: '100,1000' },
    protocols: { type: 'string', default: 'delta,sotw' },
    pushes: { type: 'string', default: '50' },
    services: { type: 'string', default: '10000' },
    instances: { type: 'string', default: '10' },
    repeats: { type: 'string', default: '200' },
    'target-cla-bytes': { type: 'string', default: '4096' },
    'no-pin': { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (flags.help) {
  console.log('usage: bun bench/s5-cost.ts [--quick] [--sizes 100,1000] [--protocols delta,sotw] [--pushes N] [--services N] [--instances N] [--repeats N] [--target-cla-bytes N] [--no-pin] [--profile]');
  process.exit(0);
}
const q = flags.quick;
const params = {
  sizes: (q ? '5,20' : flags.sizes!).split(',').map((s) => intFlag(fail, 'sizes', s)),
  protocols: flags.protocols!.split(',') as Protocol[],
  pushes: q ? 5 : intFlag(fail, 'pushes', flags.pushes),
  services: q ? 500 : intFlag(fail, 'services', flags.services),
  instances: q ? 3 : intFlag(fail, 'instances', flags.instances),
  repeats: q ? 20 : intFlag(fail, 'repeats', flags.repeats),
  targetClaBytes: intFlag(fail, 'target-cla-bytes', flags['target-cla-bytes']),
  pushDebounceMs: 0,
  pinned: false,
  largeInstances: 0,
  largeClaBytes: 0,
};
const cancelDeadline = deadline(300_000 + params.sizes.reduce((a, b) => a + b, 0) * params.protocols.length * params.pushes * 2, fail);

// --- part 1: in-process encode cost ------------------------------------------------------------------
const inst = (service: string, port: number, revision = 1): Instance => instanceDefaults(instanceKey(service, port), service, HOST, port, revision);
const claBytes = (name: string, n: number) =>
  encodeService(name, Array.from({ length: n }, (_, i) => inst(name, BASE_PORT + i))).find((r) => r.typeUrl === TypeUrl.ClusterLoadAssignment)!.bytes.length;
let largeInstances = 1;
while (claBytes('large', largeInstances) < params.targetClaBytes && largeInstances < 10_000) largeInstances++;
params.largeInstances = largeInstances;
params.largeClaBytes = claBytes('large', largeInstances);

function timeIt(fn: () => void): number {
  const t = performance.now();
  fn();
  return performance.now() - t;
}

const inProcess = await (async () => {
  const events: CatalogEvent[] = [];
  for (let s = 0; s < params.services; s++) {
    const name = serviceName(s, 5);
    for (let i = 0; i < params.instances; i++) events.push({ type: 'upsert', instance: inst(name, BASE_PORT + i) });
  }
  // The catalog state the registry feeds use in production, with a key's service read from the key.
  let update!: CatalogUpdate;
  const state = createCatalogState((u) => (update = u));
  const ownerOf = (key: string) => serviceSegment(PREFIX, key);
  const firstApplyMs = timeIt(() => state.apply(events, ownerOf));
  let catalog: Catalog = state.current();
  const store = createSnapshotStore({ logger: silentLogger, debounceMs: 0 });
  let publishes = 0;
  store.subscribe(() => publishes++);
  const firstBuildMs = timeIt(() => {
    store.update(catalog, catalog.services.keys());
    store.flush();
  });
  // A first build this big serves at once and encodes in the background; measure changes after that.
  const t0 = performance.now();
  while (store.stats().deferred > 0) await Bun.sleep(1);
  const backgroundEncodeMs = performance.now() - t0;
  const apply: number[] = [];
  const rebuild: number[] = [];
  let revision = 2;
  for (let r = 0; r < params.repeats; r++) {
    const name = serviceName(Math.floor(Math.random() * params.services), 5);
    apply.push(timeIt(() => state.apply([{ type: 'upsert', instance: inst(name, 30_000 + r, revision++) }], ownerOf)));
    catalog = update.catalog;
    rebuild.push(
      timeIt(() => {
        store.update(catalog, update.changed);
        store.flush();
      }),
    );
  }
  const small = Array.from({ length: params.instances }, (_, i) => inst('svc', BASE_PORT + i));
  const large = Array.from({ length: largeInstances }, (_, i) => inst('large', BASE_PORT + i));
  const encodeSmall: number[] = [];
  const encodeLarge: number[] = [];
  for (let r = 0; r < params.repeats; r++) {
    encodeSmall.push(timeIt(() => encodeService('svc', small)));
    encodeLarge.push(timeIt(() => encodeService('large', large)));
  }
  store.stop();
  if (publishes !== params.repeats + 1) fail(`the store published ${publishes} snapshots for ${params.repeats + 1} builds`);
  return {
    services: params.services,
    firstApplyMs: round(firstApplyMs),
    firstBuildMs: round(firstBuildMs),
    backgroundEncodeMs: round(backgroundEncodeMs),
    applyOneServiceMs: summarize(apply),
    rebuildOneServiceMs: summarize(rebuild),
    encodeServiceSmallMs: summarize(encodeSmall),
    encodeServiceLargeMs: summarize(encodeLarge),
  };
})();
console.error(`  in-process: one-service rebuild at ${params.services} services p50 ${inProcess.rebuildOneServiceMs.p50} ms, applyEvents p50 ${inProcess.applyOneServiceMs.p50} ms`);

// --- part 2: CPU per push per client -----------------------------------------------------------------
const stack = await startStack({
  pin: !flags['no-pin'],
  debounceMs: 0,
  fail,
  profileDir: flags.profile ? path.join(import.meta.dir, 'results', 'profiles') : undefined,
  beforeControlPlane: async (etcd) => {
    await etcd.put(instanceKey('small', BASE_PORT)).value('');
    for (let i = 0; i < largeInstances; i++) await etcd.put(instanceKey('large', BASE_PORT + i)).value('');
  },
});
params.pinned = stack.pinned;
const { cp, etcd } = stack;

interface Cost {
  protocol: Protocol;
  clients: number;
  kind: 'small' | 'large';
  pushes: number;
  timedOut: number;
  cpuUs: number;
  idleCpuUs: number;
  wallMs: number;
  usPerPushPerClient: number;
  allHoldMs: Summary;
  loadCpuUsPerResponse: number;
  responseBytes: number;
}
const costs: Cost[] = [];
/** Pushes of each kind made before the measured ones, for each protocol and size. */
const WARMUP_PUSHES = 10;
const state = { small: new Set([BASE_PORT]), large: new Set(Array.from({ length: largeInstances }, (_, i) => BASE_PORT + i)) };
let flip = 0;
for (const protocol of params.protocols) {
  for (const n of params.sizes) {
    const fleet = startFleet({ xds: cp.ready.xds, processes: 1, pin: stack.pinned, onUnexpectedExit: fail });
    const added = await fleet.add(protocol, 'eds', Array.from({ length: n }, () => ['small', 'large']), { timeoutMs: 60_000 });
    if (added.ready !== n) fail(`${protocol} N=${n}: only ${added.ready} clients got their endpoints`);
    // Unmeasured pushes of both kinds first, so no phase is billed for the JIT warming up its code paths.
    for (let p = 0; p < WARMUP_PUSHES; p++) for (const kind of ['small', 'large'] as const) await push(fleet, kind);
    for (const kind of ['small', 'large'] as const) costs.push(await pushes(fleet, protocol, n, kind));
    await fleet.stop();
    for (let i = 0; i < 100 && (await cp.stats()).streams > 0; i++) await Bun.sleep(50);
  }
}
await stack.stop();
cancelDeadline();
report();

/** One change of `kind` (its extra endpoint added or removed); resolves once every client holds it, with the time, or undefined on timeout. */
async function push(fleet: ReturnType<typeof startFleet>, kind: 'small' | 'large'): Promise<number | undefined> {
  const extraPort = 40_000;
  const key = instanceKey(kind, extraPort);
  const add = flip++ % 2 === 0 || !state[kind].has(extraPort);
  if (add) state[kind].add(extraPort);
  else state[kind].delete(extraPort);
  const ts = now();
  const held = fleet.expect(kind, [...state[kind]].sort((a, b) => a - b), 10_000);
  if (add) await etcd.put(key).value('');
  else await etcd.delete().key(key);
  const h = await held;
  return h.missing > 0 ? undefined : h.last - ts;
}

async function pushes(fleet: ReturnType<typeof startFleet>, protocol: Protocol, n: number, kind: 'small' | 'large'): Promise<Cost> {
  const latencies: number[] = [];
  let timedOut = 0;
  // A full collection first: garbage of what came before (N clients connecting) is not this phase's cost.
  await cp.gcStats();
  const l0 = await fleet.stats();
  const s0 = await cp.stats();
  const t0 = now();
  for (let p = 0; p < params.pushes; p++) {
    const ms = await push(fleet, kind);
    if (ms === undefined) timedOut++;
    else latencies.push(ms);
  }
  const wallMs = now() - t0;
  const s1 = await cp.stats();
  const l1 = await fleet.stats();
  // Idle baseline: the same process, same streams, as long without changes.
  const i0 = await cp.stats();
  await Bun.sleep(Math.min(wallMs, 5_000));
  const i1 = await cp.stats();
  const idleRate = (i1.cpuUserUs + i1.cpuSystemUs - i0.cpuUserUs - i0.cpuSystemUs) / (i1.t - i0.t);
  const cpuUs = s1.cpuUserUs + s1.cpuSystemUs - s0.cpuUserUs - s0.cpuSystemUs;
  const idleCpuUs = idleRate * wallMs;
  const responses = Object.values(l1.responses).reduce((a, b) => a + b, 0) - Object.values(l0.responses).reduce((a, b) => a + b, 0);
  const cost: Cost = {
    protocol,
    clients: n,
    kind,
    pushes: params.pushes,
    timedOut,
    cpuUs: Math.round(cpuUs),
    idleCpuUs: Math.round(idleCpuUs),
    wallMs: round(wallMs),
    usPerPushPerClient: round((cpuUs - idleCpuUs) / (params.pushes * n)),
    allHoldMs: summarize(latencies),
    loadCpuUsPerResponse: round((l1.cpuUserUs + l1.cpuSystemUs - l0.cpuUserUs - l0.cpuSystemUs) / Math.max(1, responses)),
    responseBytes: Math.round((s1.responseBytes - s0.responseBytes) / Math.max(1, s1.responses - s0.responses)),
  };
  console.error(`  ${protocol} N=${n} ${kind}: ${cost.usPerPushPerClient} µs per push per client (${cost.responseBytes} B responses)`);
  return cost;
}

function report(): void {
  const slopes = params.protocols.flatMap((protocol) =>
    (['small', 'large'] as const).flatMap((kind) => {
      const rows = costs.filter((c) => c.protocol === protocol && c.kind === kind).sort((a, b) => a.clients - b.clients);
      if (rows.length < 2) return [];
      const [a, b] = [rows[0]!, rows.at(-1)!];
      const per = (c: Cost) => (c.cpuUs - c.idleCpuUs) / c.pushes;
      return [{ protocol, kind, fromClients: a.clients, toClients: b.clients, usPerExtraClient: round((per(b) - per(a)) / (b.clients - a.clients)), fixedUsPerPush: round(per(a) - ((per(b) - per(a)) / (b.clients - a.clients)) * a.clients) }];
    }),
  );
  console.log(`\nS5 cost, part 1 (in-process, ${params.services} services × ${params.instances} instances), ms`);
  const row = (name: string, s: Summary) => [name, s.p50, s.p90, s.p99, s.max];
  console.log(
    formatTable(
      ['one-service change', 'p50', 'p90', 'p99', 'max'],
      [
        row('catalog update (applyEvents with key index)', inProcess.applyOneServiceMs),
        row('store update+flush (encode, snapshot, publish)', inProcess.rebuildOneServiceMs),
        row(`encodeService, ${params.instances} instances`, inProcess.encodeServiceSmallMs),
        row(`encodeService, ${largeInstances} instances (${params.largeClaBytes} B CLA)`, inProcess.encodeServiceLargeMs),
      ],
    ),
  );
  console.log(`first full build: applyEvents ${inProcess.firstApplyMs} ms, store build of all ${params.services} services ${inProcess.firstBuildMs} ms (serving), then encoded in the background in ${inProcess.backgroundEncodeMs} ms`);
  console.log(`\nS5 cost, part 2: control-plane CPU per push per client (small = 1 endpoint changed; large = ${largeInstances} endpoints, ${params.largeClaBytes} B CLA)`);
  console.log(
    formatTable(
      ['protocol', 'N', 'push', 'µs/push/client', 'CP cpu ms', 'idle ms', 'response B', 'all hold p50 ms', 'load µs/response'],
      costs.map((c) => [c.protocol, String(c.clients), c.kind, c.usPerPushPerClient, c.cpuUs / 1000, c.idleCpuUs / 1000, String(c.responseBytes), c.allHoldMs.p50, c.loadCpuUsPerResponse]),
    ),
  );
  if (slopes.length > 0) {
    console.log('marginal cost per extra client (slope between the two sizes) and fixed cost per push:');
    for (const s of slopes) console.log(`  ${s.protocol} ${s.kind}: ${s.usPerExtraClient} µs per client, ${s.fixedUsPerPush} µs fixed per push`);
  }
  // Per client is what one more client costs: the slope between the sizes. With one size, the all-in figure.
  const largest = Math.max(...params.sizes);
  const allIn = Math.max(...costs.filter((c) => c.clients === largest).map((c) => c.usPerPushPerClient));
  const perClient = slopes.length > 0 ? Math.max(...slopes.map((s) => s.usPerExtraClient)) : allIn;
  const targets = {
    usPerPushPerClient: { target: 40, measured: perClient, basis: slopes.length > 0 ? 'marginal' : `all-in at N=${largest}`, allInAtLargestN: allIn, met: perClient <= 40 },
    rebuildOneServiceMs: { target: 1, measured: inProcess.rebuildOneServiceMs.p50, met: inProcess.rebuildOneServiceMs.p50 <= 1 },
  };
  console.log(
    `targets: <= 40 µs per push per client: ${targets.usPerPushPerClient.basis} worst ${perClient} µs ${targets.usPerPushPerClient.met ? 'met' : 'MISSED'} ` +
      `(all-in at N=${largest}, fixed cost shared: worst ${allIn} µs); ` +
      `one-service change at ${params.services} services <= 1 ms: p50 ${targets.rebuildOneServiceMs.measured} ms ${targets.rebuildOneServiceMs.met ? 'met' : 'MISSED'}`,
  );
  const converged = costs.every((c) => c.timedOut === 0);
  const file = writeResults(SCENARIO, { machine: stack.machine, parameters: params, results: { inProcess, perClient: costs, slopes, targets }, checks: { converged } });
  console.log(`wrote ${file}`);
  if (!converged) process.exit(1);
}
