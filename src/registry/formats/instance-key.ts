import { serviceNameProblem } from '../../catalog/service-name.ts';

export type InstanceKey =
  | { readonly kind: 'key'; readonly service: string; readonly id: string }
  | { readonly kind: 'ignore' }
  | { readonly kind: 'reject'; readonly reason: string };

export interface KeyShape {
  /** How the part after `<service>/` is called in messages, e.g. `<host:port>`. */
  readonly idLabel: string;
  /** Whether that part may contain '/' (opaque ids may; addresses may not). */
  readonly nested: boolean;
}

/**
 * The service of a key `<prefix><service>/<id>`: the segment after the prefix. Every registration format
 * takes its service from there (the catalog feed holds them to it), so a key's owner needs no index.
 */
export function serviceSegment(prefix: string, key: string): string | undefined {
  if (!key.startsWith(prefix)) return undefined;
  const slash = key.indexOf('/', prefix.length);
  return slash > prefix.length ? key.slice(prefix.length, slash) : undefined;
}

/** serviceSegment(prefix, key) === service, without making the substring. */
export function isServiceSegment(prefix: string, key: string, service: string): boolean {
  return service.length > 0 && key.startsWith(prefix) && key.startsWith(service, prefix.length) && key.charCodeAt(prefix.length + service.length) === 0x2f;
}

/**
 * Splits `<prefix><service>/<id>`, the layout of every supported format. Keys outside the prefix, the
 * prefix itself and directory placeholders (`<prefix><service>`, `<prefix><service>/`) register nothing.
 */
export function splitInstanceKey(prefix: string, key: string, { idLabel, nested }: KeyShape): InstanceKey {
  if (!key.startsWith(prefix)) return { kind: 'ignore' };
  const rest = key.slice(prefix.length);
  const slash = rest.indexOf('/');
  if (slash < 0 || slash === rest.length - 1) return { kind: 'ignore' };
  const service = rest.slice(0, slash);
  const id = rest.slice(slash + 1);
  const nameProblem = serviceNameProblem(service);
  if (nameProblem) return { kind: 'reject', reason: nameProblem };
  if (!nested && id.includes('/')) {
    return { kind: 'reject', reason: `expected ${prefix}<service>/${idLabel}, found extra path segments after "${service}/"` };
  }
  return { kind: 'key', service, id };
}
