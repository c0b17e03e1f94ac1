/**
 * S1 propagation, first cut (issue 2): how long from an etcd write until a subscribed ADS client holds
 * the new endpoint set, next to how long a plain etcd watcher needs to see the same write.
 *
 * This process runs a private etcd, Switchyard (`pushDebounceMs: 0`) and the writer, pinned to core 0.
 * `ads-subscriber.ts` runs in a child process pinned to core 1 and holds both observers, so both are
 * stamped with the same clock. Changes alternate "put instance k" and "delete instance k-1", one at a
 * time: the next starts only when both observers have seen the previous one (or it timed out).
 *
 * Usage: bun bench/propagation.ts [--changes 200] [--quick] [--warmup 5] [--gap-ms 10] [--no-pin]
 * @module
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { createSwitchyard } from '../src/app.ts';
import { createLogger } from '../src/lib/logger.ts';
import { createEtcdClient } from '../src/registry/etcd-client.ts';
import { startEtcdProcess } from '../src/registry/etcd-process.ts';
import { TypeUrl } from '../src/xds/type-urls.ts';
import { now } from './lib/clock.ts';
import { pinSelf, pinnedCommand } from './lib/cpu-pin.ts';
import { machineInfo, writeResults } from './lib/machine.ts';
import { formatTable, summarize } from './lib/stats.ts';

const SERVICE = 'bench-svc';
const BASE_PORT = 10_000;
const TOTAL_BUDGET_MS = 120_000;

const { values: flags } = parseArgs({
  options: {
    changes: { type: 'string', default: '200' },
    quick: { type: 'boolean', default: false },
    warmup: { type: 'string', default: '5' },
    'gap-ms': { type: 'string', default: '10' },
    'change-timeout-ms': { type: 'string', default: '5000' },
    'no-pin': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (flags.help) {
  console.log('usage: bun bench/propagation.ts [--changes N] [--quick] [--warmup N] [--gap-ms MS] [--change-timeout-ms MS] [--no-pin]');
  process.exit(0);
}
const params = {
  service: SERVICE,
  changes: flags.quick ? 20 : positiveInt('changes'),
  warmupChanges: flags.quick ? 2 : positiveInt('warmup', true),
  gapMs: positiveInt('gap-ms', true),
  changeTimeoutMs: positiveInt('change-timeout-ms'),
  pushDebounceMs: 0,
  pinned: false,
  subscriber: 'raw SotW ADS (LDS→RDS→CDS→EDS, ACK every response), separate process',
};
if (params.changes + params.warmupChanges > 2 * (65_535 - BASE_PORT)) fail('--changes is too large for the port range');

// Everything below runs under one deadline so the bench cannot hang.
const deadline = setTimeout(() => fail(`aborted: the run exceeded ${TOTAL_BUDGET_MS / 1000} s (etcd, Switchyard or the subscriber is stuck?)`), TOTAL_BUDGET_MS);

const machine = machineInfo(); // before anything starts, so its load average is the machine's own
params.pinned = !flags['no-pin'] && pinSelf(0); // etcd, started next, inherits core 0
const etcdProcess = await startEtcdProcess();
const etcd = createEtcdClient({ endpoints: [etcdProcess.endpoint] });
const key = (k: number) => `/services/${SERVICE}/127.0.0.1:${BASE_PORT + k}`;
await etcd.put(key(0)).value('');

const switchyard = createSwitchyard({
  etcd: { endpoints: [etcdProcess.endpoint] },
  xdsListen: '127.0.0.1:0',
  logger: createLogger({ level: 'warn' }),
  pushDebounceMs: 0,
});
// Stage stamps inside Switchyard, for the breakdown: subscribed before start() so ours runs before the push.
const stage: { built?: number; written?: number } = {};
switchyard.snapshots.subscribe(() => (stage.built ??= now()));
switchyard.hooks.on('response', (r) => {
  if (r.typeUrl === TypeUrl.ClusterLoadAssignment) stage.written ??= now();
});
await switchyard.start();

const subscriber = startSubscriber(switchyard.xdsAddress, etcdProcess.endpoint, params.pinned);
await subscriber.next((e) => e.kind === 'ready', 15_000, 'the subscriber to hold the first endpoint set');
const clock = await measureClockOffset();

// Change j (1-based) puts instance (j+1)/2 when j is odd and deletes instance j/2 - 1 when j is even,
// so the endpoint set alternates {k-1, k} / {k} and never repeats: a set identifies its change.
interface Sample {
  op: 'put' | 'delete';
  /** The writer's put/delete call returned (etcd committed). */
  writeAckMs: number;
  etcdMs: number | undefined;
  /** Switchyard built the snapshot with the change / wrote the EDS response to the stream (this process). */
  builtMs: number | undefined;
  writtenMs: number | undefined;
  adsMs: number | undefined;
}
const samples: Sample[] = [];
for (let j = 1; j <= params.warmupChanges + params.changes; j++) {
  const op = j % 2 === 1 ? 'put' : 'delete';
  const k = Math.ceil(j / 2);
  const target = op === 'put' ? key(k) : key(k - 1);
  const expected = (op === 'put' ? [k - 1, k] : [k]).map((i) => BASE_PORT + i).join(',');

  delete stage.built;
  delete stage.written;
  const t0 = now();
  const seen = Promise.all([
    subscriber.next((e) => e.kind === 'etcd' && e.op === op && e.key === target, params.changeTimeoutMs),
    subscriber.next((e) => e.kind === 'eds' && e.ports.join(',') === expected, params.changeTimeoutMs),
  ]);
  if (op === 'put') await etcd.put(target).value('');
  else await etcd.delete().key(target);
  const writeAckMs = now() - t0;
  const [etcdEvent, adsEvent] = await seen;
  if (j > params.warmupChanges) {
    const { built, written } = stage;
    samples.push({
      op,
      writeAckMs,
      etcdMs: sinceT0(etcdEvent),
      builtMs: built === undefined ? undefined : built - t0,
      writtenMs: written === undefined ? undefined : written - t0,
      adsMs: sinceT0(adsEvent),
    });
  }
  if (params.gapMs > 0) await Bun.sleep(params.gapMs);

  function sinceT0(e: SubscriberEvent | undefined): number | undefined {
    return e && 't' in e ? e.t - t0 : undefined;
  }
}
const responses = await subscriber.stop();
await switchyard.stop();
etcd.close();
await etcdProcess.stop();
clearTimeout(deadline);

report();

// --- results -----------------------------------------------------------------------------------------

function report(): void {
  const complete = samples.filter((s) => s.etcdMs !== undefined && s.adsMs !== undefined);
  const etcdLatency = summarize(complete.map((s) => s.etcdMs!));
  const adsLatency = summarize(complete.map((s) => s.adsMs!));
  const added = summarize(complete.map((s) => s.adsMs! - s.etcdMs!));
  const byOp = (op: Sample['op']) => {
    const of = complete.filter((s) => s.op === op);
    return { etcdWatch: summarize(of.map((s) => s.etcdMs!)), switchyardAds: summarize(of.map((s) => s.adsMs!)) };
  };
  const results = {
    measured: samples.length,
    timedOut: { etcdWatch: samples.filter((s) => s.etcdMs === undefined).length, switchyardAds: samples.filter((s) => s.adsMs === undefined).length },
    etcdWatch: etcdLatency,
    switchyardAds: adsLatency,
    addedBySwitchyard: added,
    byOp: { put: byOp('put'), delete: byOp('delete') },
    stages: {
      writeAcked: summarize(complete.map((s) => s.writeAckMs)),
      snapshotBuilt: summarize(complete.flatMap((s) => s.builtMs ?? [])),
      edsWritten: summarize(complete.flatMap((s) => s.writtenMs ?? [])),
    },
    subscriberResponses: responses,
    clockCheck: clock,
  };

  const row = (name: string, s: typeof etcdLatency) => [name, s.p50, s.p90, s.p99, s.max, s.mean];
  console.log(`\npropagation: etcd write -> observer holds it, ms (${complete.length} of ${samples.length} changes, put/delete alternating)`);
  console.log(
    formatTable(
      ['observer', 'p50', 'p90', 'p99', 'max', 'mean'],
      [row('etcd watch', etcdLatency), row('switchyard ADS (EDS held)', adsLatency), row('added by switchyard', added)],
    ),
  );
  console.log('\nwhere the time goes, ms from the write (writer and Switchyard stamps, same process):');
  console.log(
    formatTable(
      ['stage', 'p50', 'p90', 'p99', 'max', 'mean'],
      [
        row('etcd write acknowledged', results.stages.writeAcked),
        row('switchyard snapshot built', results.stages.snapshotBuilt),
        row('switchyard EDS response written', results.stages.edsWritten),
        row('subscriber holds endpoints', adsLatency),
      ],
    ),
  );
  const timeouts = results.timedOut.etcdWatch + results.timedOut.switchyardAds;
  if (timeouts > 0) console.log(`timeouts: ${JSON.stringify(results.timedOut)} (per change limit ${params.changeTimeoutMs} ms)`);
  console.log(`ADS responses seen by the subscriber: ${JSON.stringify(responses)}`);
  console.log(`clock check: subscriber offset ${clock.offsetMs.toFixed(3)} ms ± ${clock.uncertaintyMs.toFixed(3)} ms; pinned: ${params.pinned}`);
  const file = writeResults('propagation', { machine, parameters: params, results });
  console.log(`wrote ${file}`);
  if (complete.length === 0) process.exit(1);
}

// --- subscriber process ------------------------------------------------------------------------------

type SubscriberEvent =
  | { kind: 'etcd'; op: 'put' | 'delete'; key: string; t: number }
  | { kind: 'eds'; ports: number[]; version: string; t: number }
  | { kind: 'ready' }
  | { kind: 'pong'; t0: number; t1: number }
  | { kind: 'summary'; responses: Record<string, number> }
  | { kind: 'error'; message: string };

function startSubscriber(xds: string, etcdEndpoint: string, pinned: boolean) {
  const script = new URL('./ads-subscriber.ts', import.meta.url).pathname;
  const argv = [process.execPath, script, '--xds', xds, '--etcd', etcdEndpoint, '--service', SERVICE];
  const [cmd, ...rest] = pinned ? pinnedCommand(1, argv) : argv;
  const child = spawn(cmd!, rest, { stdio: ['pipe', 'pipe', 'inherit'] });
  let stopping = false;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('exit', (code) => {
    if (!stopping) fail(`the subscriber process exited early (code ${code})`);
  });
  process.once('exit', () => child.kill('SIGKILL'));

  // Events are not buffered: a waiter gets the first matching event that arrives after it was registered.
  const waiters = new Set<{ match: (e: SubscriberEvent) => boolean; resolve: (e: SubscriberEvent | undefined) => void }>();
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const event = JSON.parse(line) as SubscriberEvent;
    if (event.kind === 'error') fail(`subscriber: ${event.message}`);
    for (const w of waiters) {
      if (w.match(event)) {
        waiters.delete(w);
        w.resolve(event);
      }
    }
  });

  return {
    /** The next event matching `match`; undefined after `timeoutMs`, or a failure when `what` is given. */
    next(match: (e: SubscriberEvent) => boolean, timeoutMs: number, what?: string): Promise<SubscriberEvent | undefined> {
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          if (what) fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
          resolve(undefined);
        }, timeoutMs);
        const waiter = { match, resolve: (e: SubscriberEvent | undefined) => (clearTimeout(timer), resolve(e)) };
        waiters.add(waiter);
      });
    },
    send(msg: object): void {
      child.stdin!.write(JSON.stringify(msg) + '\n');
    },
    /** Ends stdin; the subscriber prints its response counts and exits. */
    async stop(): Promise<Record<string, number>> {
      if (stopping) return {};
      stopping = true;
      const summary = this.next((e) => e.kind === 'summary', 5_000);
      child.stdin!.end();
      const e = await summary;
      const kill = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(kill);
      return e?.kind === 'summary' ? e.responses : {};
    },
  };
}

/**
 * Both processes stamp with `performance.timeOrigin + performance.now()`. Ping-pong over stdio estimates
 * how far the subscriber's clock is from ours (offset) and how sure that is (half the best round trip).
 */
async function measureClockOffset(rounds = 20): Promise<{ offsetMs: number; uncertaintyMs: number }> {
  let best = { offsetMs: 0, uncertaintyMs: Infinity };
  for (let i = 0; i < rounds; i++) {
    const t0 = now();
    const pong = subscriber.next((e) => e.kind === 'pong' && e.t0 === t0, 2_000, 'a clock-check pong');
    subscriber.send({ kind: 'ping', t0 });
    const e = (await pong) as { t1: number };
    const t2 = now();
    if ((t2 - t0) / 2 < best.uncertaintyMs) best = { offsetMs: e.t1 - (t0 + t2) / 2, uncertaintyMs: (t2 - t0) / 2 };
  }
  return best;
}

// --- plumbing ----------------------------------------------------------------------------------------

function positiveInt(name: keyof typeof flags, allowZero = false): number {
  const n = Number(flags[name]);
  if (!Number.isInteger(n) || n < (allowZero ? 0 : 1)) fail(`--${name} must be a ${allowZero ? 'non-negative' : 'positive'} integer, got ${flags[name]}`);
  return n;
}

/** Exits at once; exit hooks SIGKILL the subscriber and etcd and remove etcd's temp data dir. */
function fail(message: string): never {
  console.error(`propagation: ${message}`);
  process.exit(1);
}
