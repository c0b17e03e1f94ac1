import protobuf from 'protobufjs';
import { compileBytes } from './bytes.ts';
import { type Check, show, type WalkContext } from './context.ts';
import type { Notes } from './notes.ts';
import { asList, sub } from './rule-options.ts';
import { compileBool, compileEnum, compileNumeric, NUMERIC_KINDS } from './scalars.ts';
import { compileString } from './strings.ts';
import { compileDuration, compileTimestamp } from './time.ts';
import type { RuleObject } from './types.ts';

/**
 * What to do with one value of a field: the field itself when singular, each item of a repeated
 * field, each key or value of a map. `base` prefixes rule names (`repeated.items.`, `map.values.`).
 */
export interface Element {
  /** A message: absence means "not set" (checked by `requiredRule`), not "the default value". */
  readonly message: boolean;
  /** Rule that fails when a singular message field is absent: `message.required`, `duration.required`, … */
  readonly requiredRule?: string;
  /** Checks a present value (for scalars, the default when absent). */
  readonly check?: Check;
  readonly defaultValue: unknown;
}

/** How a message element reaches the walker (plan.ts), passed in to keep the import graph acyclic. */
export interface Recurse {
  needsVisit(type: protobuf.Type): boolean;
  visitMessage(type: protobuf.Type, obj: object, ctx: WalkContext): void;
}

const WRAPPERS: Record<string, string> = {
  '.google.protobuf.DoubleValue': 'double',
  '.google.protobuf.FloatValue': 'float',
  '.google.protobuf.Int64Value': 'int64',
  '.google.protobuf.UInt64Value': 'uint64',
  '.google.protobuf.Int32Value': 'int32',
  '.google.protobuf.UInt32Value': 'uint32',
  '.google.protobuf.BoolValue': 'bool',
  '.google.protobuf.StringValue': 'string',
  '.google.protobuf.BytesValue': 'bytes',
};

const ALL_KINDS = new Set([...NUMERIC_KINDS, 'bool', 'string', 'bytes', 'enum', 'repeated', 'map', 'any', 'duration', 'timestamp', 'message']);

function defaultOf(kind: string): unknown {
  if (kind === 'string') return '';
  if (kind === 'bool') return false;
  if (kind === 'bytes') return new Uint8Array(0);
  return 0;
}

function expectKinds(rules: RuleObject | undefined, base: string, allowed: readonly string[], what: string, notes: Notes): void {
  if (!rules) return;
  for (const key of Object.keys(rules)) {
    if (allowed.includes(key)) continue;
    notes.add(base + key, ALL_KINDS.has(key) ? `${key} rules on a ${what} value` : 'unknown rule kind');
  }
}

/** Checks of a scalar (or enum) value of `kind`. */
function compileScalar(kind: string, e: protobuf.Enum | undefined, rules: RuleObject | undefined, base: string, notes: Notes): Check | undefined {
  if (e) {
    expectKinds(rules, base, ['enum'], `enum ${e.name}`, notes);
    const r = sub(rules, 'enum');
    return r ? compileEnum(e, r, `${base}enum.`, notes) : undefined;
  }
  expectKinds(rules, base, [kind], kind, notes);
  const r = sub(rules, kind);
  if (!r) return undefined;
  const b = `${base}${kind}.`;
  if (NUMERIC_KINDS.has(kind)) return compileNumeric(kind, r, b, notes);
  if (kind === 'bool') return compileBool(r, b, notes);
  if (kind === 'string') return compileString(r, b, notes);
  if (kind === 'bytes') return compileBytes(r, b, notes);
  notes.add(b, `unsupported scalar type ${kind}`);
  return undefined;
}

/** One element of `type` (a scalar type name, or the resolved Type/Enum) under `rules` (a FieldRules). */
export function compileElement(
  scalarType: string,
  resolved: protobuf.ReflectionObject | null,
  rules: RuleObject | undefined,
  base: string,
  notes: Notes,
  recurse: Recurse,
): Element {
  if (!(resolved instanceof protobuf.Type)) {
    const e = resolved instanceof protobuf.Enum ? resolved : undefined;
    return { message: false, check: compileScalar(scalarType, e, rules, base, notes), defaultValue: defaultOf(e ? 'enum' : scalarType) };
  }
  const name = resolved.fullName;
  const messageRules = sub(rules, 'message');
  notes.unknownKeys(`${base}message.`, messageRules ?? {}, ['required', 'skip']);
  const requiredBy = (kindRequired: boolean, kind: string) =>
    messageRules?.required === true ? `${base}message.required` : kindRequired ? `${base}${kind}.required` : undefined;

  const wrapped = WRAPPERS[name];
  if (wrapped) {
    // PGV puts a wrapper's rules on the field (`uint32.gte` on a UInt32Value) and applies them to `.value`.
    const inner = compileScalar(wrapped, undefined, rules ? { [wrapped]: rules[wrapped] } : undefined, base, notes);
    expectKinds(rules, base, [wrapped, 'message'], name.slice(1), notes);
    const dflt = defaultOf(wrapped);
    return {
      message: true,
      requiredRule: requiredBy(false, wrapped),
      check: inner && ((raw, ctx) => inner((raw as { value?: unknown }).value ?? dflt, ctx)),
      defaultValue: null,
    };
  }
  if (name === '.google.protobuf.Duration' || name === '.google.protobuf.Timestamp') {
    const kind = name === '.google.protobuf.Duration' ? 'duration' : 'timestamp';
    expectKinds(rules, base, [kind, 'message'], kind, notes);
    const r = sub(rules, kind);
    const check = r && (kind === 'duration' ? compileDuration(r, `${base}${kind}.`, notes) : compileTimestamp(r, `${base}${kind}.`, notes));
    return { message: true, requiredRule: requiredBy(r?.required === true, kind), check, defaultValue: null };
  }
  if (name === '.google.protobuf.Any') {
    expectKinds(rules, base, ['any', 'message'], 'Any', notes);
    const r = sub(rules, 'any');
    if (r) notes.unknownKeys(`${base}any.`, r, ['required', 'in', 'not_in']);
    return {
      message: true,
      requiredRule: requiredBy(r?.required === true, 'any'),
      check: compileAny(r, base, messageRules?.skip === true, recurse),
      defaultValue: null,
    };
  }
  expectKinds(rules, base, ['message'], `message ${name.slice(1)}`, notes);
  const walk = messageRules?.skip !== true && recurse.needsVisit(resolved);
  return {
    message: true,
    requiredRule: requiredBy(false, 'message'),
    check: walk ? (raw, ctx) => recurse.visitMessage(resolved, raw as object, ctx) : undefined,
    defaultValue: null,
  };
}

/** Type URL rules, then the payload validated as the message its type URL names (when the root has it). */
function compileAny(rules: RuleObject | undefined, base: string, skip: boolean, recurse: Recurse): Check {
  const inList = asList(rules?.in)?.map(String);
  const notIn = asList(rules?.not_in)?.map(String);
  return (raw, ctx) => {
    const any = raw as Record<string, unknown>;
    const inline = typeof any['@type'] === 'string';
    const typeUrl = String((inline ? any['@type'] : any.type_url) ?? '');
    if (inList && !inList.includes(typeUrl)) ctx.report(`${base}any.in`, `type URL must be one of [${inList.map(show).join(', ')}], got ${show(typeUrl)}`);
    if (notIn?.includes(typeUrl)) ctx.report(`${base}any.not_in`, `type URL must not be one of [${notIn.map(show).join(', ')}], got ${show(typeUrl)}`);
    if (skip) return;
    const type = ctx.resolveTypeUrl(typeUrl);
    if (!type) return; // an extension this root does not know: nothing to check it against
    if (inline) {
      recurse.visitMessage(type, any, ctx);
      return;
    }
    const payload = decodePayload(type, any.value, ctx);
    if (payload) recurse.visitMessage(type, payload, ctx);
  };
}

function decodePayload(type: protobuf.Type, value: unknown, ctx: WalkContext): object | undefined {
  const bytes = value instanceof Uint8Array ? value : typeof value === 'string' ? Buffer.from(value, 'base64') : new Uint8Array(0);
  try {
    return type.decode(bytes);
  } catch (e) {
    ctx.report('any.payload', `payload does not decode as ${type.fullName.slice(1)}: ${e instanceof Error ? e.message : String(e)}`);
    return undefined;
  }
}
