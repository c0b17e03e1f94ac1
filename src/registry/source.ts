/** One key under a watched prefix, as etcd (or the memory registry) holds it. */
export interface RawEntry {
  readonly key: string;
  readonly value: string;
  readonly modRevision: number;
  /** Lease id in decimal, '0' when the key has no lease. */
  readonly lease: string;
}

export type RawChange =
  | { readonly type: 'put'; readonly entry: RawEntry }
  | { readonly type: 'delete'; readonly key: string; readonly modRevision: number };

export type SourceState = 'connecting' | 'synced' | 'stale';

export interface SourceStatus {
  readonly state: SourceState;
  /** Epoch ms when this state was entered. */
  readonly since: number;
  /** Revision of the last successful list or watch event. */
  readonly revision: number;
  readonly reason?: string;
}

/** Where a source delivers what it sees. Only `reset` (a successful list) and `apply` (watch events) may remove keys. */
export interface RegistrySink {
  /**
   * Authoritative full content of the prefix at `revision`; replaces everything delivered before, except
   * the keys in `since`: a re-list on a live watch has already applied their changes after `revision`,
   * and they stay as they are.
   */
  reset(entries: readonly RawEntry[], revision: number, since?: ReadonlySet<string>): void;
  /** Changes after the last reset, in revision order, each with mod_revision > that reset's revision. */
  apply(changes: readonly RawChange[]): void;
  /** Connectivity; while 'stale' the last delivered state stays in force. */
  status(status: SourceStatus): void;
}

/** A watched key prefix. `start` resolves after the first reset has been delivered (or rejects with why not). */
export interface RegistrySource {
  readonly kind: 'etcd' | 'memory';
  readonly prefix: string;
  /** Human description for logs, e.g. `etcd http://127.0.0.1:2379 prefix /services/`. */
  readonly description: string;
  start(sink: RegistrySink): Promise<void>;
  stop(): Promise<void>;
}
