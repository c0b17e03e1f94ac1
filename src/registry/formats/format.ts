import type { Instance } from '../../catalog/model.ts';
import type { RawEntry } from '../source.ts';

/** What a key under a watched prefix means. */
export type Decoded =
  | { readonly kind: 'instance'; readonly instance: Instance }
  /** Not a registration (e.g. a directory placeholder key); skipped silently. */
  | { readonly kind: 'ignore' }
  | { readonly kind: 'reject'; readonly reason: string };

/** A registration format: pure, given the watched prefix and one entry. */
export type RegistrationFormat = (prefix: string, entry: RawEntry) => Decoded;
