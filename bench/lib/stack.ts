/**
 * What every multi-process scenario starts: a private etcd and the control-plane process on core 0, the
 * driver (this process: writer, orchestration) and the load generators on core 1. Plus the plumbing each
 * script shares: one deadline for the whole run, failing fast with every child killed.
 * @module
 */
import type { Etcd3 } from 'etcd3';
import { createEtcdClient } from '../../src/registry/etcd-client.ts';
import { startEtcdProcess, type EtcdProcess } from '../../src/registry/etcd-process.ts';
import { startControlPlane, type ControlPlane } from './control-plane.ts';
import { pinSelf } from './cpu-pin.ts';
import { cpuLoopMs, machineInfo, type MachineInfo } from './machine.ts';

export const CONTROL_PLANE_CORE = 0;
export const LOAD_CORE = 1;

/** Prints `scenario: message` and exits 1; exit hooks kill children and remove etcd's temp dir. */
export function failer(scenario: string): (message: string) => never {
  return (message: string): never => {
    console.error(`${scenario}: ${message}`);
    process.exit(1);
  };
}

/** Fails the run when it is not done within `ms`; returns the cancel function. */
export function deadline(ms: number, fail: (m: string) => never): () => void {
  const t = setTimeout(() => fail(`aborted: the run exceeded ${Math.round(ms / 1000)} s`), ms);
  return () => clearTimeout(t);
}

export interface Stack {
  machine: MachineInfo;
  pinned: boolean;
  etcdProcess: EtcdProcess;
  /** The driver's etcd client (writes, reads). */
  etcd: Etcd3;
  cp: ControlPlane;
  stop(): Promise<void>;
}

export interface StackOptions {
  pin: boolean;
  debounceMs?: number;
  maxDelayMs?: number;
  profileDir?: string;
  leakBytesPerChange?: number;
  fail: (m: string) => never;
  /** Runs after etcd is up and before the control plane starts (preloading registrations). */
  beforeControlPlane?: (etcd: Etcd3) => Promise<void>;
}

export async function startStack(o: StackOptions): Promise<Stack> {
  const machine = machineInfo(); // before anything starts, so its load average is the machine's own
  const pinned = o.pin && pinSelf(CONTROL_PLANE_CORE); // etcd, started next, inherits core 0
  machine.cpuLoopMs = cpuLoopMs();
  const etcdProcess = await startEtcdProcess();
  const etcd = createEtcdClient({ endpoints: [etcdProcess.endpoint], unaryTimeoutMs: 30_000 });
  await o.beforeControlPlane?.(etcd);
  const cp = await startControlPlane({
    etcd: etcdProcess.endpoint,
    debounceMs: o.debounceMs,
    maxDelayMs: o.maxDelayMs,
    core: CONTROL_PLANE_CORE,
    pin: pinned,
    profileDir: o.profileDir,
    leakBytesPerChange: o.leakBytesPerChange,
    onUnexpectedExit: o.fail,
  });
  if (pinned) pinSelf(LOAD_CORE);
  return {
    machine,
    pinned,
    etcdProcess,
    etcd,
    cp,
    async stop() {
      await cp.stop();
      etcd.close();
      await etcdProcess.stop();
    },
  };
}

export const mib = (bytes: number): number => Math.round((bytes / 2 ** 20) * 10) / 10;
export const round = (v: number, digits = 2): number => Math.round(v * 10 ** digits) / 10 ** digits;

/** Parses a flag as an integer >= min, or fails. */
export function intFlag(fail: (m: string) => never, name: string, value: string | undefined, min = 1): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) fail(`--${name} must be an integer >= ${min}, got ${value}`);
  return n;
}
