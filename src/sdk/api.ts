/**
 * The registration handle the SDK gives out, and the drain defaults shared by the registrar and its entries.
 * @module
 */
import { Code, SwitchyardError } from '../lib/errors.ts';

export const DEFAULT_GRACE_MS = 5_000;

export interface DrainOptions {
  /**
   * How long the instance stays registered as draining before its key is deleted, default 5000: clients stop
   * sending it new calls within that time (gRPC clients skip DRAINING endpoints, Envoy drains them).
   */
  readonly graceMs?: number;
}

export type RegistrationState = 'registered' | 'draining' | 'drained' | 'closed';

export interface Registration extends AsyncDisposable {
  /** `<prefix><service>/<host:port>` */
  readonly key: string;
  readonly service: string;
  /** `host:port`, IPv6 bracketed. */
  readonly address: string;
  readonly state: RegistrationState;
  /** The value last written to etcd for this instance (`''` when every field is at its default). */
  readonly value: string;
  /**
   * Marks the instance draining, waits `graceMs`, then deletes its key. Resolves once the key is deleted (or, if
   * the registrar closes meanwhile, left to its lease). The instance is not registered again afterwards.
   */
  drain(options?: DrainOptions): Promise<void>;
  /** `drain()`, then forgets the instance. `[Symbol.asyncDispose]` does this with the default grace period. */
  close(options?: DrainOptions): Promise<void>;
}

export function checkGrace(graceMs: number): void {
  if (typeof graceMs !== 'number' || !Number.isFinite(graceMs) || graceMs < 0) {
    throw new SwitchyardError(Code.InvalidArgument, `graceMs must be a number of milliseconds >= 0, got ${String(graceMs)}`);
  }
}

