/**
 * What one instance registers: input checks and the etcd key and value in Switchyard's own format
 * (`<prefix><service>/<host:port>`, value empty or JSON; see registry/formats/plain.ts, which reads it back).
 * @module
 */
import { isIP } from 'node:net';
import { serviceNameProblem } from '../catalog/service-name.ts';
import { err, ok, type Result } from '../lib/result.ts';
import { formatHostPort } from '../registry/formats/address.ts';
import { MAX_PRIORITY, MAX_WEIGHT } from '../registry/formats/switchyard-value.ts';

/** One instance of a service, as its process registers it. */
export interface InstanceRegistration {
  /** Service name: lowercase letters, digits, `.`, `-`, `_` (it becomes the `xds:///<service>` target). */
  readonly service: string;
  /** IP literal clients dial (IPv4, or IPv6 with or without brackets); host names are not resolved. */
  readonly host: string;
  readonly port: number;
  /** Load-balancing weight, integer 1..1000000 (default 1). */
  readonly weight?: number;
  readonly region?: string;
  readonly zone?: string;
  readonly subZone?: string;
  /** Failover priority, integer 0..128; 0 (the default) is preferred. */
  readonly priority?: number;
  /** Version label that route policies select subsets on. */
  readonly version?: string;
  readonly tags?: Readonly<Record<string, string>>;
  /** Anything JSON-serializable; Switchyard stores it and ignores it. */
  readonly metadata?: unknown;
}

/** A checked registration: host without brackets, key and the JSON fields ready to write. */
export interface CheckedInstance {
  readonly service: string;
  readonly host: string;
  readonly port: number;
  /** `host:port`, IPv6 bracketed. */
  readonly address: string;
  readonly key: string;
  /** The value's fields in the order they are written; `draining` is added by `encodeValue`. */
  readonly fields: Readonly<Record<string, unknown>>;
}

/** Checks a registration and builds its key under `prefix`; every problem is reported, not only the first. */
export function checkInstance(prefix: string, input: InstanceRegistration): Result<CheckedInstance> {
  const problems: string[] = [];
  const { service, port } = input;
  const nameProblem = typeof service === 'string' ? serviceNameProblem(service) : `service must be a string, got ${show(service)}`;
  if (nameProblem !== undefined) problems.push(nameProblem);

  const rawHost = typeof input.host === 'string' ? input.host : '';
  const host = rawHost.startsWith('[') && rawHost.endsWith(']') ? rawHost.slice(1, -1) : rawHost;
  if (isIP(host) === 0) {
    problems.push(
      `host ${show(input.host)} is not an IP address: register the IPv4 or IPv6 address clients dial, such as 10.0.0.7 or ::1 (host names are not resolved)`,
    );
  }
  if (!isIntIn(port, 1, 65535)) problems.push(`port must be an integer from 1 to 65535, got ${show(port)}`);

  const fields: Record<string, unknown> = {};
  if (input.weight !== undefined) {
    if (isIntIn(input.weight, 1, MAX_WEIGHT)) fields['weight'] = input.weight;
    else problems.push(`weight must be an integer from 1 to ${MAX_WEIGHT}, got ${show(input.weight)}`);
  }
  for (const [name, field] of [['region', 'region'], ['zone', 'zone'], ['subZone', 'sub_zone']] as const) {
    const v = input[name];
    if (v === undefined) continue;
    if (typeof v === 'string') fields[field] = v;
    else problems.push(`${name} must be a string, got ${show(v)}`);
  }
  if (input.priority !== undefined) {
    if (isIntIn(input.priority, 0, MAX_PRIORITY)) fields['priority'] = input.priority;
    else problems.push(`priority must be an integer from 0 to ${MAX_PRIORITY}, got ${show(input.priority)}`);
  }
  if (input.version !== undefined) {
    if (typeof input.version === 'string') fields['version'] = input.version;
    else problems.push(`version must be a string, got ${show(input.version)}`);
  }
  if (input.tags !== undefined) {
    const tagProblem = tagsProblem(input.tags);
    if (tagProblem === undefined) fields['tags'] = { ...input.tags };
    else problems.push(tagProblem);
  }
  if (input.metadata !== undefined) {
    const metadataProblem = jsonProblem(input.metadata);
    if (metadataProblem === undefined) fields['metadata'] = input.metadata;
    else problems.push(`metadata ${metadataProblem}`);
  }

  if (problems.length > 0) return err(...problems);
  const address = formatHostPort({ host, port });
  return ok({ service, host, port, address, key: `${prefix}${service}/${address}`, fields });
}

/** The value to put: empty when every field is at its default, else a JSON object (plus `"draining": true`). */
export function encodeValue(instance: CheckedInstance, draining: boolean): string {
  const value = draining ? { ...instance.fields, draining: true } : instance.fields;
  return Object.keys(value).length === 0 ? '' : JSON.stringify(value);
}

/** Key prefix as the CLI takes it: starts with `/`; a missing trailing `/` is added. */
export function normalizePrefix(prefix: string): Result<string> {
  if (typeof prefix !== 'string' || !prefix.startsWith('/') || /\s/.test(prefix)) {
    return err(`prefix must start with "/" and contain no whitespace, such as /services/; got ${show(prefix)}`);
  }
  return ok(prefix.endsWith('/') ? prefix : prefix + '/');
}

const isIntIn = (v: unknown, min: number, max: number): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;

function tagsProblem(tags: unknown): string | undefined {
  if (typeof tags !== 'object' || tags === null || Array.isArray(tags)) return `tags must be an object of strings, got ${show(tags)}`;
  for (const [k, v] of Object.entries(tags)) {
    if (k === '') return 'tags: a tag name is empty';
    if (typeof v !== 'string') return `tags.${k} must be a string, got ${show(v)}`;
  }
  return undefined;
}

function jsonProblem(value: unknown): string | undefined {
  try {
    return JSON.stringify(value) === undefined ? 'must be JSON-serializable' : undefined;
  } catch (e) {
    return `must be JSON-serializable: ${(e as Error).message}`;
  }
}

function show(v: unknown): string {
  if (typeof v === 'bigint') return `${v}n`;
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}
