/**
 * CPU pinning with `taskset` (util-linux): the control plane and etcd on one core, the measuring client on
 * another, so the client's work does not steal time from what it measures. A no-op where `taskset` is
 * missing or the machine has a single core.
 * @module
 */
import { execFileSync } from 'node:child_process';
import os from 'node:os';

let available: boolean | undefined;

export function canPin(): boolean {
  if (available === undefined) {
    try {
      execFileSync('taskset', ['-V'], { stdio: 'ignore' });
      available = os.cpus().length >= 2;
    } catch {
      available = false;
    }
  }
  return available;
}

/** Pins every thread of this process (and the children it spawns later) to `core`; false when not pinned. */
export function pinSelf(core: number): boolean {
  if (!canPin()) return false;
  execFileSync('taskset', ['-a', '-p', '-c', String(core), String(process.pid)], { stdio: 'ignore' });
  return true;
}

/** `argv` prefixed with `taskset -c <core>` when pinning is possible. */
export function pinnedCommand(core: number, argv: readonly string[]): string[] {
  return canPin() ? ['taskset', '-c', String(core), ...argv] : [...argv];
}
