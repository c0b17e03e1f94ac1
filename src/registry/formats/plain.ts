import { serviceNameProblem } from '../../catalog/service-name.ts';
import { formatHostPort, parseHostPort } from './address.ts';
import type { Decoded, RegistrationFormat } from './format.ts';

export const MAX_WEIGHT = 1_000_000;

/**
 * Switchyard's own layout: key `<prefix><service>/<host:port>`; value empty, the same address, or a
 * JSON object (`{"weight": 3}`). Placeholder keys (`<prefix><service>` or `.../`) are ignored.
 */
export const plainFormat: RegistrationFormat = (prefix, entry): Decoded => {
  const rest = entry.key.slice(prefix.length);
  const slash = rest.indexOf('/');
  if (slash < 0 || slash === rest.length - 1) return { kind: 'ignore' };
  const service = rest.slice(0, slash);
  const addressText = rest.slice(slash + 1);
  const nameProblem = serviceNameProblem(service);
  if (nameProblem) return reject(nameProblem);
  if (addressText.includes('/')) {
    return reject(`expected ${prefix}<service>/<host:port>, found extra path segments after "${service}/"`);
  }
  const address = parseHostPort(addressText);
  if (!address.ok) return reject(address.errors.join('; '));
  const value = parseValue(entry.value.trim(), formatHostPort(address.value));
  if (!value.ok) return reject(value.reason);
  return {
    kind: 'instance',
    instance: {
      key: entry.key,
      service,
      host: address.value.host,
      port: address.value.port,
      weight: value.weight,
      revision: entry.modRevision,
    },
  };
};

type ValueResult = { ok: true; weight: number } | { ok: false; reason: string };

function parseValue(value: string, address: string): ValueResult {
  if (value === '') return { ok: true, weight: 1 };
  if (!value.startsWith('{')) {
    const same = parseHostPort(value);
    if (same.ok && formatHostPort(same.value) === address) return { ok: true, weight: 1 };
    return { ok: false, reason: `value must be empty, the address "${address}" or a JSON object; got "${truncate(value)}"` };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (e) {
    return { ok: false, reason: `value is not valid JSON: ${(e as Error).message}` };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { ok: false, reason: 'value must be a JSON object' };
  }
  const weight = (parsed as { weight?: unknown }).weight;
  if (weight === undefined) return { ok: true, weight: 1 };
  if (typeof weight !== 'number' || !Number.isInteger(weight) || weight < 1 || weight > MAX_WEIGHT) {
    return { ok: false, reason: `weight: expected an integer from 1 to ${MAX_WEIGHT}, got ${JSON.stringify(weight)}` };
  }
  return { ok: true, weight };
}

const reject = (reason: string): Decoded => ({ kind: 'reject', reason });
const truncate = (s: string) => (s.length > 80 ? s.slice(0, 77) + '...' : s);
