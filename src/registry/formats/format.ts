import type { CatalogEvent, Instance } from '../../catalog/model.ts';
import type { RoutePolicy } from '../../catalog/route-policy.ts';
import type { RawEntry } from '../source.ts';

/** What a key under a watched prefix means. */
export type Decoded =
  | { readonly kind: 'instance'; readonly instance: Instance }
  /** Not a registration (e.g. a directory placeholder key); skipped silently. */
  | { readonly kind: 'ignore' }
  | { readonly kind: 'reject'; readonly reason: string }
  /** A service's route policy (from the policy prefix). */
  | { readonly kind: 'policy'; readonly service: string; readonly policy: RoutePolicy };

/** A registration format: pure, given the watched prefix and one entry. */
export type RegistrationFormat = (prefix: string, entry: RawEntry) => Decoded;

/** How a feed reads the keys of its prefix: what a put means and what a delete means. */
export interface KeyReader {
  /** What its keys hold, for log lines: "registration", "route policy". */
  readonly noun: string;
  readonly read: RegistrationFormat;
  /** The event for a deleted key (or one whose put now means nothing). */
  readonly deleted: (prefix: string, key: string, revision: number) => CatalogEvent;
}

/** Registrations: a deleted key removes its instance. */
export const registrations = (read: RegistrationFormat): KeyReader => ({
  noun: 'registration',
  read,
  deleted: (_prefix, key, revision) => ({ type: 'remove', key, revision }),
});
