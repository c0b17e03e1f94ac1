/**
 * Reading the deployment files (envoy/*.yaml, compose.yaml) the way their consumers read them: Envoy's
 * bootstrap as an `envoy.config.bootstrap.v3.Bootstrap` in proto3 JSON form, compose.yaml as Compose does.
 *
 * @example
 *   const { yaml, proto } = readEnvoyBootstrap('envoy/sidecar-sotw.yaml');
 *   const compose = readCompose();
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { protoRoot } from '../../src/xds/proto.ts';

export const REPO_ROOT = join(import.meta.dir, '..', '..');
export const BOOTSTRAP_TYPE = 'envoy.config.bootstrap.v3.Bootstrap';

export const readYaml = (repoPath: string): unknown => Bun.YAML.parse(readFileSync(join(REPO_ROOT, repoPath), 'utf8'));

/** The protobufjs root with the Bootstrap message (and everything Switchyard encodes) loaded. */
export const bootstrapRoot = (): protobuf.Root => protoRoot(['envoy/config/bootstrap/v3/bootstrap.proto']);

const WRAPPERS = new Set(
  ['Double', 'Float', 'Int64', 'UInt64', 'Int32', 'UInt32', 'Bool', 'String', 'Bytes'].map((t) => `.google.protobuf.${t}Value`),
);
/** proto3 JSON duration: decimal seconds with up to 9 fractional digits and an `s` suffix ("5s", "0.25s"). */
const DURATION = /^(-)?([0-9]+)(?:\.([0-9]{1,9}))?s$/;

/**
 * Envoy reads YAML as proto3 JSON; protobufjs `fromObject` does not. This turns the proto3 JSON forms used in
 * Envoy YAML into protobufjs' object form, guided by the message types: durations ("5s" → `{seconds: 5}`), wrapper
 * scalars (`3` → `{value: 3}`), and `Any` payloads (converted as the type their `@type` names). Everything else
 * is passed through untouched, so an unknown field survives here and shows up in the round-trip comparison.
 */
export function fromProto3Json(type: protobuf.Type, value: unknown, path = type.name): unknown {
  if (type.fullName === '.google.protobuf.Duration') {
    if (typeof value !== 'string') return value;
    const m = DURATION.exec(value);
    if (!m) throw new Error(`${path}: "${value}" is not a proto3 JSON duration such as "5s" or "0.25s" (Envoy rejects it)`);
    const sign = m[1] ? -1 : 1;
    const seconds = sign * Number(m[2]);
    const nanos = m[3] ? sign * Number(m[3].padEnd(9, '0')) : 0;
    return nanos === 0 ? { seconds } : { seconds, nanos };
  }
  if (WRAPPERS.has(type.fullName) && (typeof value !== 'object' || value === null)) return { value };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const obj = value as Record<string, unknown>;
  if (type.fullName === '.google.protobuf.Any') {
    const url = obj['@type'];
    if (typeof url !== 'string') return value;
    const inner = type.root.lookup(url.slice(url.lastIndexOf('/') + 1));
    if (!(inner instanceof protobuf.Type)) throw new Error(`${path}: @type ${url} is not a message type the loaded protos know`);
    const { '@type': _, ...fields } = obj;
    return { '@type': url, ...(fromProto3Json(inner, fields, `${path}(${inner.name})`) as object) };
  }
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(obj)) {
    const field = type.fields[key];
    const fieldType = field?.resolve().resolvedType;
    if (!field || !(fieldType instanceof protobuf.Type)) {
      out[key] = v;
    } else if (field.map && typeof v === 'object' && v !== null) {
      out[key] = Object.fromEntries(Object.entries(v).map(([k, item]) => [k, fromProto3Json(fieldType, item, `${path}.${key}[${k}]`)]));
    } else if (field.repeated && Array.isArray(v)) {
      out[key] = v.map((item, i) => fromProto3Json(fieldType, item, `${path}.${key}[${i}]`));
    } else {
      out[key] = fromProto3Json(fieldType, v, `${path}.${key}`);
    }
  }
  return out;
}

export interface EnvoyBootstrapFile {
  /** The file as YAML parses it. */
  readonly yaml: Record<string, unknown>;
  /** The same in protobufjs object form (durations as `{seconds}`), ready for `fromObject`. */
  readonly object: Record<string, unknown>;
  /** `fromObject` then `toObject` (enums by name, 64-bit ints as numbers, `Any` expanded): equals `object` unless protobufjs dropped something. */
  readonly roundTrip: Record<string, unknown>;
  /** The encoded Bootstrap. */
  readonly bytes: Uint8Array;
}

export function readEnvoyBootstrap(repoPath: string): EnvoyBootstrapFile {
  const type = bootstrapRoot().lookupType(BOOTSTRAP_TYPE);
  const yaml = readYaml(repoPath) as Record<string, unknown>;
  const object = fromProto3Json(type, yaml) as Record<string, unknown>;
  const message = type.fromObject(object);
  const roundTrip = type.toObject(message, { enums: String, longs: Number, json: true }) as Record<string, unknown>;
  return { yaml, object, roundTrip, bytes: type.encode(message).finish() };
}

// ---------- compose.yaml ----------

export interface ComposeService {
  readonly image?: string;
  readonly build?: string | { context: string; dockerfile?: string };
  readonly command?: string | readonly string[];
  readonly environment?: Record<string, string> | readonly string[];
  readonly ports?: readonly (string | number)[];
  readonly volumes?: readonly string[];
  readonly depends_on?: readonly string[] | Record<string, unknown>;
  readonly [key: string]: unknown;
}

export interface ComposeFile {
  readonly name?: string;
  readonly services: Record<string, ComposeService>;
  readonly [key: string]: unknown;
}

export const readCompose = (): ComposeFile => readYaml('compose.yaml') as ComposeFile;

/** Compose interpolation: `$$` is a literal `$`. Fails on any other `$`, as no variables are used. */
export function uninterpolate(s: string): string {
  const stray = /\$(?!\$)/.exec(s.replace(/\$\$/g, ''));
  if (stray) throw new Error(`compose would interpolate "$" in: ${s}`);
  return s.replace(/\$\$/g, '$');
}

export const commandOf = (s: ComposeService): string[] =>
  s.command === undefined ? [] : (typeof s.command === 'string' ? s.command.split(/\s+/) : [...s.command]).map(uninterpolate);

export function environmentOf(s: ComposeService): Record<string, string> {
  if (s.environment === undefined) return {};
  if (Array.isArray(s.environment)) {
    return Object.fromEntries(s.environment.map((e: string) => [e.slice(0, e.indexOf('=')), uninterpolate(e.slice(e.indexOf('=') + 1))]));
  }
  return Object.fromEntries(Object.entries(s.environment).map(([k, v]) => [k, uninterpolate(String(v))]));
}

export interface PortMapping {
  readonly host: number;
  readonly container: number;
}

/** `"HOST:CONTAINER"` or `"IP:HOST:CONTAINER"` (optionally `/tcp`); bare container ports have no fixed host port. */
export function portsOf(s: ComposeService): PortMapping[] {
  return (s.ports ?? []).map((p) => {
    const m = /^(?:[0-9.]+:)?([0-9]+):([0-9]+)(?:\/tcp)?$/.exec(String(p));
    if (!m) throw new Error(`unsupported port mapping ${p}: use "HOST:CONTAINER"`);
    return { host: Number(m[1]), container: Number(m[2]) };
  });
}

export const dependsOn = (s: ComposeService): string[] =>
  s.depends_on === undefined ? [] : Array.isArray(s.depends_on) ? [...s.depends_on] : Object.keys(s.depends_on);

/** `host:port` → parts (no IPv6 needed in these files). */
export function splitHostPort(hostPort: string): { host: string; port: number } {
  const m = /^([^:/]+):([0-9]+)$/.exec(hostPort);
  if (!m) throw new Error(`expected host:port, got ${hostPort}`);
  return { host: m[1]!, port: Number(m[2]) };
}

/** The value following `--flag` or given as `--flag=value` in a command. */
export function flagValue(command: readonly string[], flag: string): string | undefined {
  for (let i = 0; i < command.length; i++) {
    const arg = command[i]!;
    if (arg === flag) return command[i + 1];
    if (arg.startsWith(`${flag}=`)) return arg.slice(flag.length + 1);
  }
  return undefined;
}
