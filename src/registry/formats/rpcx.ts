import { err, ok, type Result } from '../../lib/result.ts';
import { parseHostPort } from './address.ts';
import { registered, reject } from './decoded.ts';
import type { Decoded, RegistrationFormat } from './format.ts';
import { splitInstanceKey } from './instance-key.ts';
import { parseWeightText, show, weightProblem } from './json-fields.ts';
import type { InstanceFields } from './switchyard-value.ts';

const TCP_NETWORKS = new Set(['tcp', 'tcp4', 'tcp6']);

/**
 * rpcx `rpcx-etcd` (etcd-notes §1f): key `<BasePath>/<svc>/tcp@<ip:port>` (e.g. prefix `/rpcx_test/`,
 * key `/rpcx_test/Arith/tcp@10.0.0.5:8972`), value URL-encoded metadata `group=prod&state=inactive&weight=10`.
 *
 * - Placeholders (`/rpcx_test` = `rpcx_path`, `/rpcx_test/Arith` = `Arith`) have no instance segment: ignored.
 * - Address: the key's `<network>@<address>`; only tcp is served; `[v6]:port` as Go's JoinHostPort writes it.
 * - `state=inactive` → draining (rpcx clients drop such servers); other states are active.
 * - `group` → tags.group (rpcx clients filter on it); `weight` (decimal, 1..1e6; absent or empty → 1, rpcx's
 *   default) → weight. Everything else is dropped on purpose: the plugin re-puts every UpdateInterval and may
 *   add churning `calls`/`connections` counters, which must not change the instance.
 * - rpcx service names are Go type names (`Arith`), which Switchyard's lowercase service names reject.
 */
export const rpcxFormat: RegistrationFormat = (prefix, entry): Decoded => {
  const key = splitInstanceKey(prefix, entry.key, { idLabel: 'tcp@<ip:port>', nested: false });
  if (key.kind !== 'key') return key;
  const at = key.id.indexOf('@');
  if (at < 0) return reject(`instance "${key.id}": expected <network>@<ip:port>, e.g. tcp@10.0.0.5:8972`);
  const network = key.id.slice(0, at);
  if (!TCP_NETWORKS.has(network)) return reject(`instance "${key.id}": network "${network}" cannot be served; only tcp@<ip:port> instances can be reached`);
  const address = parseHostPort(key.id.slice(at + 1));
  if (!address.ok) return reject(...address.errors);
  const fields = queryFields(entry.value.trim());
  if (!fields.ok) return reject(...fields.errors);
  return registered(entry, key.service, address.value, fields.value);
};

function queryFields(value: string): Result<Partial<InstanceFields>> {
  const query = parseQuery(value);
  if (!query.ok) return query;
  const params = query.value;
  const weightText = params.get('weight') ?? '';
  const weight = weightText === '' ? 1 : parseWeightText(weightText);
  if (weight === undefined) return err(weightProblem('weight', weightText));
  const group = params.get('group') ?? '';
  const tags: Record<string, string> = group === '' ? {} : { group };
  return ok({ weight, draining: params.get('state') === 'inactive', tags });
}

/** Go's url.ParseQuery: '&'-separated, '+' is a space; bad %-escapes and ';' are errors (Go >= 1.17). */
function parseQuery(value: string): Result<Map<string, string>> {
  const params = new Map<string, string>();
  for (const pair of value.split('&')) {
    if (pair === '') continue;
    if (pair.includes(';')) return err(`value is not a URL query (k=v&...): ';' in "${pair}"`);
    const eq = pair.indexOf('=');
    const [k, v] = eq < 0 ? [pair, ''] : [pair.slice(0, eq), pair.slice(eq + 1)];
    const name = unescape(k);
    const text = unescape(v);
    if (name === undefined || text === undefined) return err(`value is not a URL query (k=v&...): bad escape in ${show(pair)}`);
    // The first value wins, as url.Values.Get returns it.
    if (!params.has(name)) params.set(name, text);
  }
  return ok(params);
}

function unescape(s: string): string | undefined {
  try {
    return decodeURIComponent(s.replaceAll('+', ' '));
  } catch {
    return undefined;
  }
}
