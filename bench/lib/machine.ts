/** What a result was measured on, and where results go. @module */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryBytes: number;
  os: string;
  bun: string;
  etcd: string;
  /** 1/5/15-minute load averages when the run started: other work on the machine skews latencies. */
  loadAverage: number[];
  /**
   * Milliseconds a fixed integer loop took on the control plane's core when the run started (`cpuLoopMs()`).
   * The same machine has run it 25-35% slower for stretches, and every bench slows with it; compare runs
   * only at similar values.
   */
  cpuLoopMs?: number;
}

/** Times a fixed CPU-bound loop (~0.13 s at full speed here) on the calling thread. */
export function cpuLoopMs(): number {
  const t0 = performance.now();
  let x = 0;
  for (let i = 0; i < 3e7; i++) x = (x + i * 7) % 1_000_003;
  const ms = performance.now() - t0;
  // uses x, so the loop cannot be optimized away
  return Math.round(ms * 10) / 10 + (x < 0 ? 1 : 0);
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryBytes: os.totalmem(),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    bun: typeof Bun === 'undefined' ? 'not bun' : Bun.version,
    etcd: firstLine('etcd', ['--version']),
    loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

/**
 * Writes `bench/results/<scenario>.json` and returns its path. `SWITCHYARD_BENCH_RESULTS` names another
 * directory (the smoke test uses a temp dir so it never overwrites measured results).
 */
export function writeResults(scenario: string, data: object): string {
  const dir = process.env.SWITCHYARD_BENCH_RESULTS || path.join(import.meta.dir, '..', 'results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${scenario}.json`);
  writeFileSync(file, JSON.stringify({ scenario, date: new Date().toISOString(), ...data }, null, 2) + '\n');
  return file;
}

function firstLine(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', timeout: 5_000 }).split('\n')[0]!.trim();
  } catch {
    return 'unavailable';
  }
}
