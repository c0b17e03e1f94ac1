/** Driver side of `control-plane-process.ts`: start Switchyard in its own (pinned) process and ask it for numbers. @module */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { spawnJsonChild, type JsonChild, type Message } from './child.ts';

export interface ControlPlaneStats {
  t: number;
  rss: number;
  heapUsed: number;
  heapTotal: number;
  cpuUserUs: number;
  cpuSystemUs: number;
  services: number;
  /** Cold-start groups not encoded yet (see DeferredResources). */
  deferred: number;
  streams: number;
  streamsOpened: number;
  responses: number;
  responseBytes: number;
  acks: number;
  nacks: number;
  refused: number;
}

export interface ControlPlaneReady extends ControlPlaneStats {
  xds: string;
  startToReadyMs: number;
  processToReadyMs: number;
  heapBeforeStart: number;
}

export interface ControlPlane {
  readonly child: JsonChild;
  readonly pid: number;
  readonly ready: ControlPlaneReady;
  /** Wall ms from spawning the process to its ready line (includes Bun start and module loading). */
  readonly spawnToReadyMs: number;
  stats(): Promise<ControlPlaneStats>;
  /** Full GC, then stats. */
  gcStats(): Promise<ControlPlaneStats>;
  mark(): Promise<void>;
  marks(): Promise<{ builds: number; firstBuiltAt: number; lastBuiltAt: number; edsResponses: number; firstEdsAt: number; lastEdsAt: number }>;
  /** Process CPU seconds (user+system) from /proc/<pid>/stat, 10 ms resolution. */
  procCpuSeconds(): number;
  /** Resident set size now, from /proc/<pid>/status: no round trip, so it can be sampled often. */
  procRssBytes(): number;
  stop(): Promise<void>;
}

export interface ControlPlaneOptions {
  etcd: string;
  debounceMs?: number;
  maxDelayMs?: number;
  core?: number;
  pin: boolean;
  /** Write a CPU profile (Bun --cpu-prof, markdown too) into this directory when the process exits. */
  profileDir?: string;
  /** Bytes the process keeps per changed resource, a leak on purpose (S4 `--leak-bytes-per-change`). */
  leakBytesPerChange?: number;
  readyTimeoutMs?: number;
  onUnexpectedExit: (why: string) => void;
}

export async function startControlPlane(o: ControlPlaneOptions): Promise<ControlPlane> {
  const script = path.join(import.meta.dir, 'control-plane-process.ts');
  const prof = o.profileDir ? ['--cpu-prof', '--cpu-prof-md', `--cpu-prof-dir=${o.profileDir}`] : [];
  const leak = o.leakBytesPerChange ? ['--leak-bytes-per-change', String(o.leakBytesPerChange)] : [];
  const argv = [process.execPath, ...prof, script, '--etcd', o.etcd, '--debounce-ms', String(o.debounceMs ?? 0), '--max-delay-ms', String(o.maxDelayMs ?? 100), ...leak];
  const t0 = performance.now();
  const child = spawnJsonChild(argv, {
    name: 'control-plane',
    core: o.core ?? 0,
    pin: o.pin,
    onUnexpectedExit: (code, signal) => o.onUnexpectedExit(`the control-plane process exited early (${signal ?? `code ${code}`})`),
  });
  const ready = (await child.next((m) => m.kind === 'ready', o.readyTimeoutMs ?? 60_000, 'the control plane to be ready')) as Message & ControlPlaneReady;
  const spawnToReadyMs = performance.now() - t0;
  const ticks = 100; // CLK_TCK on Linux
  return {
    child,
    pid: child.pid,
    ready,
    spawnToReadyMs,
    stats: () => child.request({ cmd: 'stats' }) as Promise<Message & ControlPlaneStats>,
    gcStats: () => child.request({ cmd: 'gc' }) as Promise<Message & ControlPlaneStats>,
    mark: async () => void (await child.request({ cmd: 'mark' })),
    marks: () => child.request({ cmd: 'marks' }) as never,
    procRssBytes() {
      const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1];
      return Number(kb) * 1024;
    },
    procCpuSeconds() {
      const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return (Number(fields[11]) + Number(fields[12])) / ticks; // utime, stime (fields 14 and 15)
    },
    async stop() {
      await child.stop(15_000);
    },
  };
}
