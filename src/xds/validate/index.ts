/**
 * Envoy's protoc-gen-validate rules, checked in TypeScript before Switchyard publishes a resource
 * (xds-notes §4.3: Envoy NACKs a resource that breaks any `(validate.rules)` on its fields).
 *
 * What is validated is a decoded protobufjs Message: `validateResource` decodes the encoded bytes, so
 * the check sees exactly what goes on the wire (enums as numbers, an undefined enum number stays a
 * number, oneof members with presence, `Any` payloads as bytes that are decoded with the type their
 * URL names, when the root knows it, and validated recursively). `validateMessage` also accepts the
 * plain-object form the resource builders produce (proto field names, enums by name or number,
 * 64-bit ints as numbers/strings/Longs, wrappers as `{ value }`, durations as `{ seconds, nanos }`,
 * nested `Any` inline as `{ '@type': url, ...fields }` or as `{ type_url, value: bytes | base64 }`).
 * Prefer `validateResource`: protobufjs `fromObject` coerces some values when encoding (an unknown
 * enum name silently becomes 0), and the wire is what Envoy judges.
 *
 * Rules are compiled once per message type (see plan.ts) and cached for the life of the process.
 * @module
 */
import protobuf from 'protobufjs';
import { protoRoot } from '../proto.ts';
import { WalkContext } from './context.ts';
import { needsVisit, planFor, visitMessage } from './plan.ts';
import type { UnsupportedRule, ValidationError } from './types.ts';

export type { UnsupportedRule, ValidationError } from './types.ts';
export { formatValidationErrors } from './format.ts';

export interface ValidateOptions {
  /** Stop recording after this many errors (the walk still finishes). Default 100. */
  readonly maxErrors?: number;
}

export interface Validator {
  /** Decodes `bytes` as the message `typeUrl` names and validates it. Throws if the root lacks the type. */
  validateResource(typeUrl: string, bytes: Uint8Array, options?: ValidateOptions): ValidationError[];
  /** Validates a decoded Message or a plain object as the message `fullTypeName` (`a.b.C`). */
  validateMessage(fullTypeName: string, value: object, options?: ValidateOptions): ValidationError[];
  /** Same, with the protobufjs Type in hand. */
  validateType(type: protobuf.Type, value: object, options?: ValidateOptions): ValidationError[];
}

const nameOfUrl = (typeUrl: string) => typeUrl.slice(typeUrl.lastIndexOf('/') + 1);

/** A validator whose `Any` payloads and type names resolve against `root`. */
export function createValidator(root: protobuf.Root): Validator {
  const byUrl = new Map<string, protobuf.Type | null>();
  const resolveTypeUrl = (typeUrl: string): protobuf.Type | null => {
    let t = byUrl.get(typeUrl);
    if (t === undefined) {
      const found = typeUrl === '' ? null : root.lookup(nameOfUrl(typeUrl));
      t = found instanceof protobuf.Type ? found : null;
      byUrl.set(typeUrl, t);
    }
    return t;
  };
  // protobufjs lookups walk the namespace tree; a resource is validated per change, so each name is looked up once
  const byName = new Map<string, protobuf.Type>();
  const typeNamed = (fullName: string): protobuf.Type => {
    let t = byName.get(fullName);
    if (!t) byName.set(fullName, (t = root.lookupType(fullName)));
    return t;
  };
  const validateType = (type: protobuf.Type, value: object, options: ValidateOptions = {}): ValidationError[] => {
    if (!needsVisit(type)) return [];
    const ctx = new WalkContext(resolveTypeUrl, options.maxErrors ?? 100);
    visitMessage(type, value, ctx);
    return ctx.errors;
  };
  return {
    validateType,
    validateMessage: (fullTypeName, value, options) => validateType(typeNamed(fullTypeName), value, options),
    validateResource(typeUrl, bytes, options) {
      const type = typeNamed(nameOfUrl(typeUrl));
      let decoded: protobuf.Message;
      try {
        decoded = type.decode(bytes);
      } catch (e) {
        return [{ path: '', rule: 'decode', message: `bytes do not decode as ${type.fullName.slice(1)}: ${e instanceof Error ? e.message : String(e)}` }];
      }
      return validateType(type, decoded, options);
    },
  };
}

let shared: Validator | undefined;
const envoy = (): Validator => (shared ??= createValidator(protoRoot()));

/**
 * Validates an encoded resource (e.g. a Cluster) against the PGV rules of its type and of every
 * message inside it, including `Any` payloads such as the HttpConnectionManager in a Listener.
 * @example
 * const errors = validateResource(TypeUrl.Cluster, encodeMessage(TypeUrl.Cluster, cluster));
 * if (errors.length > 0) log.warn(formatValidationErrors(cluster.name, TypeUrl.Cluster, errors));
 */
export function validateResource(typeUrl: string, bytes: Uint8Array, options?: ValidateOptions): ValidationError[] {
  return envoy().validateResource(typeUrl, bytes, options);
}

/** Validates a decoded Message or plain object as `fullTypeName` (e.g. `envoy.config.cluster.v3.Cluster`). */
export function validateMessage(fullTypeName: string, value: object, options?: ValidateOptions): ValidationError[] {
  return envoy().validateMessage(fullTypeName, value, options);
}

/**
 * Every rule on a message type in `root` that this validator cannot evaluate (unknown rule keys from a
 * newer PGV, rules on a field of the wrong kind, RE2 patterns it cannot translate). Compiles every type.
 */
export function unsupportedRules(root: protobuf.Root = protoRoot()): UnsupportedRule[] {
  const out: UnsupportedRule[] = [];
  const walk = (ns: protobuf.NamespaceBase) => {
    for (const nested of ns.nestedArray) {
      if (nested instanceof protobuf.Type) out.push(...planFor(nested).unsupported);
      if (nested instanceof protobuf.Namespace) walk(nested);
    }
  };
  walk(root);
  return out;
}
