import { isIP } from 'node:net';
import { err, ok, type Result } from '../../lib/result.ts';
import { parseHostPort, type HostPort } from './address.ts';
import { registered, reject } from './decoded.ts';
import type { Decoded, RegistrationFormat } from './format.ts';
import { splitInstanceKey } from './instance-key.ts';
import { field, optionalString, parseJsonObject, show, stringMap, weightProblem } from './json-fields.ts';
import { MAX_WEIGHT } from './switchyard-value.ts';

/** Kitex's `registry.DefaultWeight`: what Kitex servers register, and what Kitex clients use for weight <= 0. */
export const KITEX_DEFAULT_WEIGHT = 10;

const TCP_NETWORKS = new Set(['tcp', 'tcp4', 'tcp6']);

/**
 * Kitex `kitex-contrib/registry-etcd` (etcd-notes §1f): key `kitex/registry-etcd/<svc>/<ip:port>` (prefix
 * `kitex/registry-etcd/`), value `{"network":"tcp","address":"10.0.0.5:8888","weight":10,"tags":{"idc":"hz1"}}`.
 *
 * - Address: the key's last segment, built by Kitex with `%s:%d`, so IPv6 arrives without brackets
 *   (`fe80::1:8888`) and is split on the last ':'; `[v6]:port` is accepted too. The value's `address`, when
 *   present, must be the same address.
 * - `network` must be tcp (absent counts as tcp); other networks cannot be reached through xDS clusters.
 * - `weight`: an integer. 0, negative or absent → 10, as current Kitex clients read it (`Weight()` falls back
 *   to `registry.DefaultWeight`), which keeps such an instance level with default-registered ones; above 1e6
 *   or not an integer is rejected.
 * - `tags` (string map) → tags, unchanged. Kitex has no version or locality fields.
 */
export const kitexFormat: RegistrationFormat = (prefix, entry): Decoded => {
  const key = splitInstanceKey(prefix, entry.key, { idLabel: '<ip:port>', nested: false });
  if (key.kind !== 'key') return key;
  const address = parseKitexAddress(key.id);
  if (!address.ok) return reject(...address.errors);
  const value = parseJsonObject(entry.value);
  if (!value.ok) return reject(...value.errors);
  const info = value.value;

  const network = optionalString(info, 'network');
  if (!network.ok) return reject(...network.errors);
  if (network.value !== undefined && !TCP_NETWORKS.has(network.value)) {
    return reject(`network: "${network.value}" cannot be served; only tcp instances can be reached`);
  }
  const valueAddress = optionalString(info, 'address');
  if (!valueAddress.ok) return reject(...valueAddress.errors);
  if (valueAddress.value !== undefined) {
    const same = parseKitexAddress(valueAddress.value);
    if (!same.ok) return reject(...same.errors.map((e) => `address: ${e}`));
    if (same.value.host !== address.value.host || same.value.port !== address.value.port) {
      return reject(`address: "${valueAddress.value}" differs from the key's address "${key.id}"`);
    }
  }
  const weight = kitexWeight(field(info, 'weight'));
  if (!weight.ok) return reject(...weight.errors);
  const tags = stringMap(field(info, 'tags'), 'tags');
  if (!tags.ok) return reject(...tags.errors);
  return registered(entry, key.service, address.value, { weight: weight.value, tags: tags.value });
};

function kitexWeight(v: unknown): Result<number> {
  if (v === undefined || v === null) return ok(KITEX_DEFAULT_WEIGHT);
  if (typeof v !== 'number' || !Number.isInteger(v) || v > MAX_WEIGHT) return err(weightProblem('weight', v));
  return ok(v <= 0 ? KITEX_DEFAULT_WEIGHT : v);
}

/** `ip:port`, `[v6]:port`, or unbracketed `v6:port` split on the last ':' (etcd-notes §1 parsing guidance). */
export function parseKitexAddress(text: string): Result<HostPort> {
  const colon = text.lastIndexOf(':');
  const host = text.slice(0, colon);
  if (text.startsWith('[') || colon < 0 || !host.includes(':')) return parseHostPort(text);
  if (isIP(host) !== 6) return err(`address "${text}": "${host}" is not an IPv6 address`);
  const bracketed = parseHostPort(`[${host}]:${text.slice(colon + 1)}`);
  if (!bracketed.ok) return err(`address "${text}": port "${text.slice(colon + 1)}" is not a number from 1 to 65535`);
  return bracketed;
}
