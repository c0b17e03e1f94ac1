import { parseHostPort } from './address.ts';
import { registered, reject } from './decoded.ts';
import type { Decoded, RegistrationFormat } from './format.ts';
import { splitInstanceKey } from './instance-key.ts';

/**
 * go-zero `core/discov` (etcd-notes §1c): key `<Etcd.Key>/<lease id or Etcd.ID>`, value the listen address,
 * e.g. `user.rpc/7587869520419061251` = `10.0.0.5:8080`. The prefix is the parent of `Etcd.Key` — often
 * '' since go-zero keys have no leading '/'. go-zero writes no weight, version or zone, so every field
 * keeps its default. go-zero itself only writes IPv4; `[v6]:port` is accepted too.
 */
export const goZeroFormat: RegistrationFormat = (prefix, entry): Decoded => {
  const key = splitInstanceKey(prefix, entry.key, { idLabel: '<id>', nested: true });
  if (key.kind !== 'key') return key;
  const value = entry.value.trim();
  if (value === '') return reject('value is empty; expected the instance address "ip:port"');
  const address = parseHostPort(value);
  if (!address.ok) return reject(...address.errors.map((e) => `value: ${e}`));
  return registered(entry, key.service, address.value);
};
