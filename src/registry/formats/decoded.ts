import { instanceDefaults, NO_LOCALITY, type Locality } from '../../catalog/model.ts';
import type { RawEntry } from '../source.ts';
import type { HostPort } from './address.ts';
import type { Decoded } from './format.ts';
import type { InstanceFields } from './switchyard-value.ts';

export const IGNORE: Decoded = { kind: 'ignore' };

export const reject = (...reasons: readonly string[]): Decoded => ({ kind: 'reject', reason: reasons.join('; ') });

/**
 * The instance one entry registers. Only `revision` comes from etcd's bookkeeping, so identical re-puts
 * give instances that differ in nothing else and the catalog sees no change.
 */
export function registered(entry: RawEntry, service: string, { host, port }: HostPort, fields: Partial<InstanceFields> = {}): Decoded {
  return { kind: 'instance', instance: { ...instanceDefaults(entry.key, service, host, port, entry.modRevision), ...fields } };
}

/** A locality from optional region/zone labels; the shared empty locality when neither is set. */
export const localityOf = (region = '', zone = ''): Locality => (region || zone ? { region, zone, subZone: '' } : NO_LOCALITY);
