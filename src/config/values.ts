/**
 * Validators for single setting values. Each returns the normalized value or what was expected; the caller adds
 * which flag or env var the value came from and what was given.
 * @module
 */
import { isIPv4, isIPv6 } from 'node:net';
import { SOURCE_FORMATS, type SourceSpec } from './config.ts';
import { LOG_LEVELS, type LogLevel } from '../lib/logger.ts';
import { err, ok, type Result } from '../lib/result.ts';

const HOSTNAME = /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/;
const DOTTED_NUMBERS = /^[0-9.]+$/;

export interface HostPort {
  /** IPv6 without brackets. */
  readonly host: string;
  readonly port: number;
}

/** `host:port` with an IPv4 address, a DNS name or a bracketed IPv6 address. */
export function parseHostPort(raw: string, { allowPortZero }: { allowPortZero: boolean }): Result<HostPort> {
  const expected = `expected host:port such as 127.0.0.1:18000 or [::1]:18000, port ${allowPortZero ? 0 : 1}-65535`;
  const m = /^(?:\[([^\]]*)\]|([^:[\]]*)):([0-9]+)$/.exec(raw);
  if (!m) return err(expected);
  const [, v6, name, portText] = m as unknown as [string, string | undefined, string | undefined, string];
  const port = Number(portText);
  if (port > 65535 || (port === 0 && !allowPortZero)) return err(`port out of range, ${expected}`);
  if (v6 !== undefined) return isIPv6(v6) ? ok({ host: v6, port }) : err(`"${v6}" is not an IPv6 address, ${expected}`);
  const host = name ?? '';
  if (host === '') return err(`host is missing, ${expected}`);
  const valid = DOTTED_NUMBERS.test(host) ? isIPv4(host) : HOSTNAME.test(host);
  return valid ? ok({ host, port }) : err(`"${host}" is not an IPv4 address or host name, ${expected}`);
}

export const formatHostPort = ({ host, port }: HostPort): string => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);

/** Comma-separated etcd client URLs, each `http(s)://host:port`. */
export function parseEtcdEndpoints(raw: string): Result<readonly string[]> {
  const expected = 'expected comma-separated http:// or https:// URLs with a port, such as http://127.0.0.1:2379';
  const parts = raw
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  if (parts.length === 0) return err(`no URL given, ${expected}`);
  const endpoints: string[] = [];
  for (const part of parts) {
    const m = /^(https?):\/\/([^/?#@]*)\/?$/i.exec(part);
    if (!m) {
      const why = /^[a-z][a-z0-9+.-]*:\/\//i.test(part) ? 'is not an http(s) URL with only host:port' : 'has no http:// or https://';
      return err(`"${part}" ${why}, ${expected}`);
    }
    const [, scheme, authority] = m as unknown as [string, string, string];
    const hostPort = parseHostPort(authority, { allowPortZero: false });
    if (!hostPort.ok) return err(`"${part}" has no valid host:port, ${expected}`);
    endpoints.push(`${scheme.toLowerCase()}://${formatHostPort(hostPort.value)}`);
  }
  return ok(endpoints);
}

/** Key prefix: starts with `/`; a missing trailing `/` is added so `/services` cannot match `/services-old/`. */
export function parsePrefix(raw: string): Result<string> {
  const expected = 'expected a key prefix that starts with "/", such as /services/';
  if (!raw.startsWith('/')) return err(expected);
  if (/\s/.test(raw)) return err(`whitespace is not allowed, ${expected}`);
  return ok(raw.endsWith('/') ? raw : raw + '/');
}

export function parseLogLevel(raw: string): Result<LogLevel> {
  return (LOG_LEVELS as readonly string[]).includes(raw) ? ok(raw as LogLevel) : err(`expected one of ${LOG_LEVELS.join(', ')}`);
}

const TRUE = ['1', 'true', 'yes', 'on'];
const FALSE = ['0', 'false', 'no', 'off'];

export function parseBoolean(raw: string): Result<boolean> {
  const v = raw.toLowerCase();
  if (TRUE.includes(v)) return ok(true);
  if (FALSE.includes(v)) return ok(false);
  return err(`expected one of ${[...TRUE, ...FALSE].join(', ')}`);
}

/** Non-empty free text without control characters (node ids, cluster and locality names, paths). */
export function parseText(raw: string): Result<string> {
  if (raw.trim() === '') return err('expected a non-empty value');
  if (/[\u0000-\u001f]/.test(raw)) return err('expected text without control characters');
  return ok(raw);
}

/** A whole number from `min` to `max` written in decimal digits (`unit` names what it counts, for the message). */
export function parseIntIn(min: number, max: number, unit = ''): (raw: string) => Result<number> {
  const expected = `expected a whole number${unit ? ` of ${unit}` : ''} from ${min} to ${max}`;
  return (raw) => {
    if (!/^[0-9]+$/.test(raw)) return err(expected);
    const n = Number(raw);
    return n >= min && n <= max ? ok(n) : err(expected);
  };
}

/** One `name=value` tag; the value may be empty, the name may not. */
export function parseTag(raw: string): Result<readonly [string, string]> {
  const eq = raw.indexOf('=');
  const name = eq === -1 ? '' : raw.slice(0, eq).trim();
  if (eq === -1 || name === '') return err('expected name=value, such as canary=true');
  const value = raw.slice(eq + 1);
  if (/[\u0000-\u001f]/.test(raw)) return err('expected text without control characters');
  return ok([name, value] as const);
}

/** `<prefix>=<format>`: the last `=` separates them, since prefixes may contain `=`. */
export function parseSource(raw: string): Result<SourceSpec> {
  const eq = raw.lastIndexOf('=');
  const expected = `expected <prefix>=<format> such as /microservices/=kratos; formats: ${SOURCE_FORMATS.join(', ')}`;
  if (eq === -1) return err(expected);
  const prefix = raw.slice(0, eq);
  const format = raw.slice(eq + 1);
  if (!(SOURCE_FORMATS as readonly string[]).includes(format)) return err(`unknown format "${format}", ${expected}`);
  if (prefix !== '' && !prefix.endsWith('/')) return err(`prefix "${prefix}" must end with "/" (or be empty for the whole keyspace)`);
  if (/\s/.test(prefix)) return err(`whitespace is not allowed in the prefix, ${expected}`);
  return ok({ prefix, format: format as SourceSpec['format'] });
}

/** Tags from repeated `--tag name=value` flags or one comma-separated list; a name given twice is an error. */
export function parseTags(raws: readonly string[]): Result<Readonly<Record<string, string>>> {
  const tags: Record<string, string> = {};
  for (const raw of raws) {
    const tag = parseTag(raw);
    if (!tag.ok) return err(`"${raw}": ${tag.errors.join('; ')}`);
    const [name, value] = tag.value;
    if (Object.hasOwn(tags, name)) return err(`tag "${name}" is given twice`);
    tags[name] = value;
  }
  return ok(tags);
}
