import { instanceDefaults } from '../../catalog/model.ts';
import { serviceNameProblem } from '../../catalog/service-name.ts';
import { err, ok, type Result } from '../../lib/result.ts';
import { formatHostPort, parseHostPort } from './address.ts';
import type { Decoded, RegistrationFormat } from './format.ts';
import { DEFAULT_FIELDS, readInstanceFields, type InstanceFields } from './switchyard-value.ts';

/**
 * Switchyard's own layout: key `<prefix><service>/<host:port>`; value empty, the same address, or a
 * JSON object with optional `weight`, `region`/`zone`/`sub_zone`, `priority`, `version`, `tags`,
 * `draining` and `metadata`. Placeholder keys (`<prefix><service>` or `.../`) are ignored.
 */
export const plainFormat: RegistrationFormat = (prefix, entry): Decoded => {
  const rest = entry.key.slice(prefix.length);
  const slash = rest.indexOf('/');
  if (slash < 0 || slash === rest.length - 1) return { kind: 'ignore' };
  let service = rest.slice(0, slash);
  const addressText = rest.slice(slash + 1);
  if (service === lastGoodService) service = lastGoodService;
  else {
    const nameProblem = serviceNameProblem(service);
    if (nameProblem) return reject(nameProblem);
    lastGoodService = service;
  }
  if (addressText.includes('/')) {
    return reject(`expected ${prefix}<service>/<host:port>, found extra path segments after "${service}/"`);
  }
  const address = parseHostPort(addressText);
  if (!address.ok) return reject(address.errors.join('; '));
  const { host, port } = address.value;
  const defaults = instanceDefaults(entry.key, service, host, port, entry.modRevision);
  const value = entry.value.trim();
  if (value === '') return { kind: 'instance', instance: defaults };
  const fields = parseValue(value, formatHostPort(address.value));
  if (!fields.ok) return reject(fields.errors.join('; '));
  return { kind: 'instance', instance: { ...defaults, ...fields.value } };
};

/**
 * Keys arrive grouped by service (a list is sorted), so the name check runs once per service and the
 * instances of a service share one name string (100k keys: 90k strings fewer for the collector).
 */
let lastGoodService = '';

function parseValue(value: string, address: string): Result<InstanceFields> {
  if (value === '') return ok(DEFAULT_FIELDS);
  if (!value.startsWith('{')) {
    const same = parseHostPort(value);
    if (same.ok && formatHostPort(same.value) === address) return ok(DEFAULT_FIELDS);
    return err(`value must be empty, the address "${address}" or a JSON object; got "${truncate(value)}"`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (e) {
    return err(`value is not valid JSON: ${(e as Error).message}`);
  }
  return readInstanceFields(parsed);
}

const reject = (reason: string): Decoded => ({ kind: 'reject', reason });
const truncate = (s: string) => (s.length > 80 ? s.slice(0, 77) + '...' : s);
