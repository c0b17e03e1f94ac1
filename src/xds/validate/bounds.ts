import type { WalkContext } from './context.ts';

type Comparable = number | bigint;

/** The comparison part of numeric, duration and timestamp rules, already converted to one value type. */
export interface Bounds<T extends Comparable> {
  readonly const?: T;
  readonly lt?: T;
  readonly lte?: T;
  readonly gt?: T;
  readonly gte?: T;
  readonly in?: readonly T[];
  readonly not_in?: readonly T[];
}

export type BoundsCheck<T> = (value: T, ctx: WalkContext) => void;

interface Side<T> {
  readonly limit: T;
  readonly strict: boolean;
  readonly key: string;
}

/**
 * Compiles const / in / not_in / lt / lte / gt / gte. With both a lower and an upper bound the value
 * must lie between them, unless the lower bound is larger than the upper one: then validate.proto
 * says "the range is reversed" and the value must lie outside (`lt: 0, gt: 10` ⇒ `< 0 or > 10`).
 * `base` is the rule prefix, e.g. `uint32.` or `repeated.items.uint32.`.
 */
export function compileBounds<T extends Comparable>(
  base: string,
  b: Bounds<T>,
  fmt: (v: T) => string,
): BoundsCheck<T> | undefined {
  const checks: BoundsCheck<T>[] = [];
  const c = b.const;
  if (c !== undefined) {
    checks.push((v, ctx) => {
      if (v !== c) ctx.report(`${base}const`, `value must equal ${fmt(c)}, got ${fmt(v)}`);
    });
  }
  const range = compileRange(base, b, fmt);
  if (range) checks.push(range);
  const inList = b.in;
  if (inList && inList.length > 0) {
    checks.push((v, ctx) => {
      if (!inList.includes(v)) ctx.report(`${base}in`, `value must be one of [${inList.map(fmt).join(', ')}], got ${fmt(v)}`);
    });
  }
  const notIn = b.not_in;
  if (notIn && notIn.length > 0) {
    checks.push((v, ctx) => {
      if (notIn.includes(v)) ctx.report(`${base}not_in`, `value must not be one of [${notIn.map(fmt).join(', ')}], got ${fmt(v)}`);
    });
  }
  if (checks.length === 0) return undefined;
  if (checks.length === 1) return checks[0];
  return (v, ctx) => {
    for (const check of checks) check(v, ctx);
  };
}

function compileRange<T extends Comparable>(base: string, b: Bounds<T>, fmt: (v: T) => string): BoundsCheck<T> | undefined {
  const lower: Side<T> | undefined =
    b.gt !== undefined ? { limit: b.gt, strict: true, key: 'gt' } : b.gte !== undefined ? { limit: b.gte, strict: false, key: 'gte' } : undefined;
  const upper: Side<T> | undefined =
    b.lt !== undefined ? { limit: b.lt, strict: true, key: 'lt' } : b.lte !== undefined ? { limit: b.lte, strict: false, key: 'lte' } : undefined;
  // Written as negations of "ok" so that NaN fails every bound, as it does in Envoy's C++ checks.
  const aboveLower = (v: T, s: Side<T>) => (s.strict ? v > s.limit : v >= s.limit);
  const belowUpper = (v: T, s: Side<T>) => (s.strict ? v < s.limit : v <= s.limit);
  const op = (s: Side<T>, dir: '<' | '>') => `${dir}${s.strict ? '' : '='} ${fmt(s.limit)}`;

  if (lower && !upper) {
    return (v, ctx) => {
      if (!aboveLower(v, lower)) ctx.report(base + lower.key, `value must be ${op(lower, '>')}, got ${fmt(v)}`);
    };
  }
  if (upper && !lower) {
    return (v, ctx) => {
      if (!belowUpper(v, upper)) ctx.report(base + upper.key, `value must be ${op(upper, '<')}, got ${fmt(v)}`);
    };
  }
  if (!lower || !upper) return undefined;
  if (lower.limit > upper.limit) {
    const rule = `${base}${upper.key}|${lower.key}`;
    const message = `value must be ${op(upper, '<')} or ${op(lower, '>')}`;
    return (v, ctx) => {
      if (!aboveLower(v, lower) && !belowUpper(v, upper)) ctx.report(rule, `${message}, got ${fmt(v)}`);
    };
  }
  const interval = `${lower.strict ? '(' : '['}${fmt(lower.limit)}, ${fmt(upper.limit)}${upper.strict ? ')' : ']'}`;
  return (v, ctx) => {
    if (!aboveLower(v, lower)) ctx.report(base + lower.key, `value must be in range ${interval}, got ${fmt(v)}`);
    else if (!belowUpper(v, upper)) ctx.report(base + upper.key, `value must be in range ${interval}, got ${fmt(v)}`);
  };
}
