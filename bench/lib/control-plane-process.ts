/**
 * Switchyard in a process of its own, so a bench can measure its RSS, heap and CPU apart from etcd and
 * the load generator. Started by `lib/control-plane.ts`; speaks JSON lines (lib/child.ts).
 *
 * Usage: bun bench/lib/control-plane-process.ts --etcd URL [--debounce-ms 0] [--max-delay-ms 100] [--listen 127.0.0.1:0]
 *          [--leak-bytes-per-change N]  (keeps N bytes per changed resource: a leak on purpose, to check S4's drift figure)
 *
 * Out: {kind:'ready', xds, startToReadyMs, processToReadyMs, heapBeforeStart, ...stats} once the first
 * snapshot is built and the port bound. In (each answered with the same `re`):
 *   {cmd:'stats'}  → {kind:'stats', rss, heapUsed, heapTotal, cpuUserUs, cpuSystemUs, streams, responses, ...}
 *   {cmd:'gc'}     → full GC first, then the same stats
 *   {cmd:'mark'}   → starts a new window for `marks`
 *   {cmd:'marks'}  → {kind:'marks', builds, firstBuiltAt, lastBuiltAt, edsResponses, firstEdsAt, lastEdsAt} since the mark
 * stdin EOF: stops Switchyard and exits 0 (a CPU profile, when bun was started with --cpu-prof, is written then).
 * @module
 */
import { parseArgs } from 'node:util';
import { emit, serveStdin } from './child.ts';
import { now } from './clock.ts';

const { values: args } = parseArgs({
  options: {
    etcd: { type: 'string' },
    'debounce-ms': { type: 'string', default: '0' },
    'max-delay-ms': { type: 'string', default: '100' },
    listen: { type: 'string', default: '127.0.0.1:0' },
    'leak-bytes-per-change': { type: 'string', default: '0' },
  },
});
if (!args.etcd) {
  process.stderr.write('usage: bun bench/lib/control-plane-process.ts --etcd URL [--debounce-ms MS] [--max-delay-ms MS]\n');
  process.exit(2);
}

const { createSwitchyard } = await import('../../src/app.ts');
const { createLogger } = await import('../../src/lib/logger.ts');
const { TypeUrl } = await import('../../src/xds/type-urls.ts');

Bun.gc(true);
const heapBeforeStart = process.memoryUsage().heapUsed;
const tCreate = now();
const switchyard = createSwitchyard({
  etcd: { endpoints: [args.etcd] },
  xdsListen: args.listen,
  // SWITCHYARD_BENCH_LOG_LEVEL=info shows the control plane's own log, e.g. when a cold start is done
  logger: createLogger({ level: (process.env.SWITCHYARD_BENCH_LOG_LEVEL as 'info' | undefined) ?? 'warn' }),
  pushDebounceMs: Number(args['debounce-ms']),
  pushMaxDelayMs: Number(args['max-delay-ms']),
});

const counters = { streams: 0, streamsOpened: 0, responses: 0, responseBytes: 0, acks: 0, nacks: 0, refused: 0 };
const marks = { builds: 0, firstBuiltAt: 0, lastBuiltAt: 0, edsResponses: 0, firstEdsAt: 0, lastEdsAt: 0 };
switchyard.hooks.on('streamOpened', () => (counters.streams++, counters.streamsOpened++));
switchyard.hooks.on('streamClosed', () => counters.streams--);
switchyard.hooks.on('ack', () => counters.acks++);
switchyard.hooks.on('nack', () => counters.nacks++);
switchyard.hooks.on('refused', () => counters.refused++);
switchyard.hooks.on('response', (r) => {
  counters.responses++;
  counters.responseBytes += r.bytes;
  if (r.typeUrl === TypeUrl.ClusterLoadAssignment) {
    const t = now();
    marks.edsResponses++;
    marks.firstEdsAt ||= t;
    marks.lastEdsAt = t;
  }
});
// Registered before start(), so it runs before the server's own listener pushes the change.
const leaked: Uint8Array[] = [];
const leakBytes = Number(args['leak-bytes-per-change']);
switchyard.snapshots.subscribe((_snapshot, changes) => {
  if (leakBytes > 0) for (const names of changes.values()) for (let i = 0; i < names.size; i++) leaked.push(new Uint8Array(leakBytes));
  const t = now();
  marks.builds++;
  marks.firstBuiltAt ||= t;
  marks.lastBuiltAt = t;
});

await switchyard.start();
const tReady = now();

function stats() {
  const m = process.memoryUsage();
  const cpu = process.cpuUsage();
  return {
    t: now(),
    rss: m.rss,
    heapUsed: m.heapUsed,
    heapTotal: m.heapTotal,
    cpuUserUs: cpu.user,
    cpuSystemUs: cpu.system,
    services: switchyard.catalog().services.size,
    deferred: switchyard.snapshots.stats().deferred,
    ...counters,
  };
}

emit({
  kind: 'ready',
  xds: switchyard.xdsAddress,
  startToReadyMs: tReady - tCreate,
  processToReadyMs: tReady - performance.timeOrigin,
  heapBeforeStart,
  ...stats(),
});

await serveStdin((msg: { cmd: string; re?: number }) => {
  switch (msg.cmd) {
    case 'stats':
      return emit({ kind: 'stats', re: msg.re, ...stats() });
    case 'gc':
      Bun.gc(true);
      return emit({ kind: 'stats', re: msg.re, ...stats() });
    case 'mark':
      Object.assign(marks, { builds: 0, firstBuiltAt: 0, lastBuiltAt: 0, edsResponses: 0, firstEdsAt: 0, lastEdsAt: 0 });
      return emit({ kind: 'marked', re: msg.re });
    case 'marks':
      return emit({ kind: 'marks', re: msg.re, ...marks });
    default:
      throw new Error(`unknown command ${msg.cmd}`);
  }
});
await switchyard.stop();
process.exit(0);
