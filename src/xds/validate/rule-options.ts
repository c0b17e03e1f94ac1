import type protobuf from 'protobufjs';
import type { RuleObject } from './types.ts';

/*
 * How protobufjs 7 exposes PGV options (checked against the loaded Envoy root, see rule-options.test.ts):
 * - `ReflectionObject.options` is a flattened map (`"(validate.rules).string.min_len": 1`) that is lossy:
 *   an empty message value (`duration.gt = {}`, i.e. "> 0s") is dropped, and a repeated value keeps only
 *   its last element (`string.in`). So rules are read from `parsedOptions` instead, an array of
 *   `{ "(validate.rules)": { string: { min_len: 1 } } }` objects that keeps the whole nested value.
 * - A repeated rule value is an array when written more than once (`in: [1, 2]`, `not_in: 1 not_in: 2`)
 *   and a bare scalar when written once (`not_in: 6`); `asList` evens that out.
 * - `lt: inf` parses to null; null means "not set" everywhere.
 * - 64-bit rule values are JS numbers (exact up to 2^53).
 */

const RULES = '(validate.rules)';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    out[k] = isObject(prev) && isObject(v) ? deepMerge(prev, v) : v;
  }
  return out;
}

function parsedOptions(obj: protobuf.ReflectionObject): readonly Record<string, unknown>[] {
  const po = (obj as { parsedOptions?: unknown }).parsedOptions;
  return Array.isArray(po) ? (po as Record<string, unknown>[]) : [];
}

/** The field's `(validate.rules)` as one nested object (several option entries merged), or undefined. */
export function fieldRules(field: protobuf.Field): RuleObject | undefined {
  let rules: Record<string, unknown> | undefined;
  for (const entry of parsedOptions(field)) {
    const r = entry[RULES];
    if (isObject(r)) rules = deepMerge(rules ?? {}, r);
  }
  return rules;
}

function flag(obj: protobuf.ReflectionObject, name: string): boolean {
  if (obj.options?.[name] === true) return true;
  return parsedOptions(obj).some((e) => e[name] === true);
}

/** `option (validate.required) = true;` inside a oneof. */
export const oneofRequired = (oneof: protobuf.OneOf): boolean => flag(oneof, '(validate.required)');

/** `option (validate.disabled) = true;` (or the newer `(validate.ignored)`) on a message: no rules run. */
export const messageDisabled = (type: protobuf.Type): boolean =>
  flag(type, '(validate.disabled)') || flag(type, '(validate.ignored)');

/** A repeated rule value as a list, whether protobufjs gave an array, a single value or nothing. */
export function asList(v: unknown): unknown[] | undefined {
  if (v === undefined || v === null) return undefined;
  return Array.isArray(v) ? v : [v];
}

/** A sub-object of a rule (e.g. `rules.string`), or undefined. */
export function sub(rules: RuleObject | undefined, key: string): RuleObject | undefined {
  const v = rules?.[key];
  return isObject(v) ? v : undefined;
}

/** A numeric rule value (null and non-numbers read as unset). */
export function num(rules: RuleObject, key: string): number | undefined {
  const v = rules[key];
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v))) return Number(v);
  return undefined;
}

export const has = (rules: RuleObject, key: string): boolean => rules[key] !== undefined && rules[key] !== null;
