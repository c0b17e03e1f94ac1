import { parseHostPort } from './address.ts';
import { IGNORE, localityOf, registered, reject } from './decoded.ts';
import type { Decoded, RegistrationFormat } from './format.ts';
import { splitInstanceKey } from './instance-key.ts';
import { field, isJsonObject, isWeight, parseJsonObject, show, type JsonObject } from './json-fields.ts';
import type { InstanceFields } from './switchyard-value.ts';

const OP_ADD = 0;
const OP_DELETE = 1;

/**
 * etcd's own naming layout (`client/v3/naming/endpoints`, etcd-notes §1b). The endpoints manager for target
 * `foo/bar/my-service` writes `foo/bar/my-service/<anything>` = `{"Op":0,"Addr":"10.0.0.1:50051","Metadata":null}`;
 * configure the target's parent (`foo/bar/`) as the prefix, so the service is the target's last segment.
 *
 * - `Op`: 0 (Add) or absent (etcd's etcdctl examples omit it) registers; 1 (Delete) is ignored, so the key
 *   registers nothing (and removes the instance it registered before); any other value is rejected.
 * - `Addr`: a gRPC address, `ip:port` or `[v6]:port`. The key's last part is not used: it may be anything.
 * - `Metadata` is free-form and etcd defines no keys in it. When it is an object, `weight` (integer 1..1e6),
 *   `zone`, `region` and `version` (strings) are read if they have that type and silently skipped otherwise,
 *   because other tools may use the same names differently; Metadata that is not an object is ignored.
 */
export const etcdNamingFormat: RegistrationFormat = (prefix, entry): Decoded => {
  const key = splitInstanceKey(prefix, entry.key, { idLabel: '<endpoint key>', nested: true });
  if (key.kind !== 'key') return key;
  const value = parseJsonObject(entry.value);
  if (!value.ok) return reject(...value.errors);
  const update = value.value;

  const op = field(update, 'Op') ?? OP_ADD;
  if (op === OP_DELETE) return IGNORE;
  if (op !== OP_ADD) return reject(`Op: expected 0 (Add) or 1 (Delete), got ${show(op)}`);

  const addr = field(update, 'Addr');
  if (typeof addr !== 'string') return reject(`Addr: expected an "ip:port" string, got ${addr === undefined ? 'nothing' : show(addr)}`);
  const address = parseHostPort(addr);
  if (!address.ok) return reject(...address.errors.map((e) => `Addr: ${e}`));
  return registered(entry, key.service, address.value, metadataFields(field(update, 'Metadata')));
};

function metadataFields(metadata: unknown): Partial<InstanceFields> {
  if (!isJsonObject(metadata)) return {};
  const text = (o: JsonObject, name: string) => {
    const v = field(o, name);
    return typeof v === 'string' ? v : undefined;
  };
  const weight = field(metadata, 'weight');
  const version = text(metadata, 'version');
  return {
    ...(isWeight(weight) ? { weight } : {}),
    ...(version !== undefined ? { version } : {}),
    locality: localityOf(text(metadata, 'region'), text(metadata, 'zone')),
  };
}
