import type protobuf from 'protobufjs';
import { compileBounds } from './bounds.ts';
import { type Check, show } from './context.ts';
import type { Notes } from './notes.ts';
import { asList, has, num } from './rule-options.ts';
import type { RuleObject } from './types.ts';

export const NUMERIC_KINDS = new Set([
  'double', 'float', 'int32', 'int64', 'uint32', 'uint64', 'sint32', 'sint64',
  'fixed32', 'fixed64', 'sfixed32', 'sfixed64',
]);

const NUMERIC_KEYS = ['const', 'lt', 'lte', 'gt', 'gte', 'in', 'not_in', 'ignore_empty'];

/**
 * A number from whatever protobufjs or a caller holds: number, numeric string (JSON form of 64-bit
 * ints, "NaN"/"Infinity"), bigint, or a Long (decoded 64-bit fields when the `long` package is present).
 * 64-bit values are compared as doubles, exact up to 2^53.
 */
export function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string') return v.trim() === '' ? Number.NaN : Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'object' && v !== null) {
    const long = v as { toNumber?: () => number; low?: number; high?: number; unsigned?: boolean };
    if (typeof long.toNumber === 'function') return long.toNumber();
    if (typeof long.low === 'number' && typeof long.high === 'number') {
      const high = long.unsigned ? long.high >>> 0 : long.high | 0;
      return high * 2 ** 32 + (long.low >>> 0);
    }
  }
  return Number.NaN;
}

/** `float`, `double`, and the ten integer kinds. `base` is e.g. `uint32.` or `repeated.items.uint32.`. */
export function compileNumeric(kind: string, rules: RuleObject, base: string, notes: Notes): Check | undefined {
  notes.unknownKeys(base, rules, NUMERIC_KEYS);
  // A float field holds a float32 on the wire; compare against float32-rounded limits as C++ does.
  const conv = kind === 'float' ? Math.fround : (x: number) => x;
  const one = (k: string) => {
    const v = num(rules, k);
    return v === undefined ? undefined : conv(v);
  };
  const list = (k: string) => asList(rules[k])?.map((x) => conv(toNumber(x)));
  const check = compileBounds<number>(base, {
    const: one('const'), lt: one('lt'), lte: one('lte'), gt: one('gt'), gte: one('gte'),
    in: list('in'), not_in: list('not_in'),
  }, String);
  if (!check) return undefined;
  const ignoreEmpty = rules.ignore_empty === true;
  return (raw, ctx) => {
    const v = toNumber(raw);
    if (ignoreEmpty && v === 0) return;
    check(v, ctx);
  };
}

export function compileBool(rules: RuleObject, base: string, notes: Notes): Check | undefined {
  notes.unknownKeys(base, rules, ['const']);
  if (!has(rules, 'const')) return undefined;
  const want = rules.const === true;
  return (raw, ctx) => {
    const v = raw === true || raw === 'true';
    if (v !== want) ctx.report(`${base}const`, `value must equal ${want}, got ${v}`);
  };
}

/** Enum values arrive as numbers (decoded wire) or names (plain objects); an unknown name is undefined. */
export function compileEnum(e: protobuf.Enum, rules: RuleObject, base: string, notes: Notes): Check | undefined {
  notes.unknownKeys(base, rules, ['const', 'defined_only', 'in', 'not_in']);
  const label = (n: number) => (e.valuesById[n] !== undefined ? `${e.valuesById[n]} (${n})` : String(n));
  const bounds = compileBounds<number>(base, {
    const: num(rules, 'const'),
    in: asList(rules.in)?.map(toNumber),
    not_in: asList(rules.not_in)?.map(toNumber),
  }, label);
  const definedOnly = rules.defined_only === true;
  if (!bounds && !definedOnly) return undefined;
  return (raw, ctx) => {
    const n = typeof raw === 'string' ? (e.values[raw] ?? Number.NaN) : toNumber(raw);
    if (definedOnly && e.valuesById[n] === undefined) {
      const got = typeof raw === 'string' ? show(raw) : String(n);
      ctx.report(`${base}defined_only`, `value must be a defined ${e.name} value, got ${got}`);
    }
    bounds?.(n, ctx);
  };
}
