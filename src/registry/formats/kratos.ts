import { err, ok, type Result } from '../../lib/result.ts';
import { parseHostPort, type HostPort } from './address.ts';
import { localityOf, registered, reject } from './decoded.ts';
import type { Decoded, RegistrationFormat } from './format.ts';
import { splitInstanceKey } from './instance-key.ts';
import { field, optionalString, parseJsonObject, parseWeightText, show, stringMap, weightProblem } from './json-fields.ts';
import type { InstanceFields } from './switchyard-value.ts';

/** kratos' WRR and random selectors give instances without a `weight` this weight (selector/node/direct). */
export const KRATOS_DEFAULT_WEIGHT = 100;

/** Metadata keys mapped to instance fields; all other metadata entries become tags. */
const MAPPED_METADATA = new Set(['weight', 'zone', 'region']);

/**
 * kratos `contrib/registry/etcd` (etcd-notes §1d): key `<namespace>/<name>/<id>` (namespace `/microservices`,
 * so the prefix is `/microservices/`), value a ServiceInstance:
 * `{"id","name","version","metadata":{"weight":"10","zone":"az1"},"endpoints":["http://10.0.0.5:8000","grpc://10.0.0.5:9000"]}`.
 *
 * - Address: the first `grpc://` endpoint, as kratos' own gRPC resolver picks it; query parameters are
 *   tolerated. TLS endpoints (`grpcs://`, legacy `?isSecure=true`) are rejected: Switchyard's clusters are
 *   plaintext. No gRPC endpoint at all is rejected with the endpoints found.
 * - `name` must equal the key's service segment when present. kratos filters on it because its watch prefix
 *   has no trailing '/'; with ours the key is authoritative, so a mismatch is a registration to look at.
 * - `version` → version; metadata `weight` (decimal string, 1..1e6; absent → 100, kratos' default, so mixed
 *   weighted/unweighted instances keep kratos' proportions), `zone`, `region` → locality; every other metadata
 *   entry → tags (metadata is a `map[string]string`, so a non-string value is rejected, as kratos rejects it).
 */
export const kratosFormat: RegistrationFormat = (prefix, entry): Decoded => {
  const key = splitInstanceKey(prefix, entry.key, { idLabel: '<id>', nested: true });
  if (key.kind !== 'key') return key;
  const value = parseJsonObject(entry.value);
  if (!value.ok) return reject(...value.errors);
  const si = value.value;

  const name = optionalString(si, 'name');
  if (!name.ok) return reject(...name.errors);
  if (name.value !== undefined && name.value !== key.service) {
    return reject(`name: "${name.value}" does not match the service "${key.service}" in the key`);
  }
  const address = grpcEndpoint(field(si, 'endpoints'));
  if (!address.ok) return reject(...address.errors);
  const version = optionalString(si, 'version');
  if (!version.ok) return reject(...version.errors);
  const metadata = stringMap(field(si, 'metadata'), 'metadata');
  if (!metadata.ok) return reject(...metadata.errors);
  const fields = metadataFields(metadata.value);
  if (!fields.ok) return reject(...fields.errors);
  return registered(entry, key.service, address.value, { ...fields.value, version: version.value ?? '' });
};

function grpcEndpoint(endpoints: unknown): Result<HostPort> {
  if (!Array.isArray(endpoints)) return err(`endpoints: expected an array of URLs, got ${endpoints === undefined ? 'nothing' : show(endpoints)}`);
  const bad = endpoints.findIndex((e) => typeof e !== 'string');
  if (bad >= 0) return err(`endpoints[${bad}]: expected a URL string, got ${show(endpoints[bad])}`);
  const urls = endpoints as string[];
  const plaintext = urls.find((u) => schemeOf(u) === 'grpc' && !legacySecure(u));
  if (plaintext !== undefined) {
    const address = parseHostPort(authorityOf(plaintext));
    return address.ok ? address : err(...address.errors.map((e) => `endpoint "${plaintext}": ${e}`));
  }
  const tls = urls.find((u) => schemeOf(u) === 'grpcs' || schemeOf(u) === 'grpc');
  if (tls !== undefined) return err(`endpoint "${tls}" uses TLS; Switchyard serves plaintext clusters only, register a grpc:// endpoint`);
  return err(`no grpc:// endpoint; found ${urls.length === 0 ? 'no endpoints' : urls.map((u) => `"${u}"`).join(', ')}`);
}

const schemeOf = (url: string): string => {
  const sep = url.indexOf('://');
  return sep < 0 ? '' : url.slice(0, sep).toLowerCase();
};

/** host:port between `scheme://` and the first '/', '?' or '#'. */
function authorityOf(url: string): string {
  const rest = url.slice(url.indexOf('://') + 3);
  const end = rest.search(/[/?#]/);
  return end < 0 ? rest : rest.slice(0, end);
}

/** kratos before endpoint schemes wrote TLS as `grpc://host:port?isSecure=true`. */
function legacySecure(url: string): boolean {
  const q = url.indexOf('?');
  if (q < 0) return false;
  const query = url.slice(q + 1).split('#')[0]!;
  return new URLSearchParams(query).get('isSecure')?.toLowerCase() === 'true';
}

function metadataFields(metadata: Readonly<Record<string, string>>): Result<Partial<InstanceFields>> {
  const weightText = metadata.weight;
  const weight = weightText === undefined ? KRATOS_DEFAULT_WEIGHT : parseWeightText(weightText);
  if (weight === undefined) return err(weightProblem('metadata.weight', weightText));
  const tags = Object.fromEntries(Object.entries(metadata).filter(([k]) => !MAPPED_METADATA.has(k)));
  return ok({ weight, locality: localityOf(metadata.region, metadata.zone), tags });
}
