import { type Bounds, compileBounds } from './bounds.ts';
import type { Check } from './context.ts';
import type { Notes } from './notes.ts';
import { asList } from './rule-options.ts';
import { toNumber } from './scalars.ts';
import type { RuleObject } from './types.ts';

/*
 * `duration` and `timestamp` rules compare total nanoseconds as bigint, so `gt: {}` (0s) and
 * `lt: {seconds: 4294967296}` are exact. They apply only when the message is present; absence is
 * checked by `required`, reported by the caller (walk.ts) because it sees presence.
 */

const NANOS = 1_000_000_000n;

/** An integer from a Long (decoded int64), bigint, decimal string or number. */
function toBigInt(v: unknown): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'string' && /^-?\d+$/.test(v.trim())) return BigInt(v.trim());
  if (typeof v === 'object' && v !== null) {
    const { low, high, unsigned } = v as { low?: unknown; high?: unknown; unsigned?: unknown };
    if (typeof low === 'number' && typeof high === 'number') {
      const bits = (BigInt(high >>> 0) << 32n) | BigInt(low >>> 0);
      return unsigned === true ? bits : BigInt.asIntN(64, bits);
    }
  }
  const n = toNumber(v ?? 0);
  return Number.isFinite(n) ? BigInt(Math.trunc(n)) : 0n;
}

/** `{seconds, nanos}` (Long, number or string seconds) → total nanoseconds. */
export function totalNanos(v: unknown): bigint {
  if (typeof v !== 'object' || v === null) return 0n;
  const { seconds, nanos } = v as { seconds?: unknown; nanos?: unknown };
  return toBigInt(seconds) * NANOS + toBigInt(nanos);
}

export function formatDuration(ns: bigint): string {
  const sign = ns < 0n ? '-' : '';
  const abs = ns < 0n ? -ns : ns;
  const frac = (abs % NANOS).toString().padStart(9, '0').replace(/0+$/, '');
  return `${sign}${abs / NANOS}${frac ? `.${frac}` : ''}s`;
}

export function formatTimestamp(ns: bigint): string {
  const ms = Number(ns / 1_000_000n);
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? `${formatDuration(ns)} since epoch` : d.toISOString();
}

function bounds(rules: RuleObject, keys: readonly string[]): Bounds<bigint> {
  const out: Record<string, unknown> = {};
  for (const k of keys) {
    const v = rules[k];
    if (v === undefined || v === null) continue;
    out[k] = k === 'in' || k === 'not_in' ? asList(v)!.map(totalNanos) : totalNanos(v);
  }
  return out as Bounds<bigint>;
}

const COMPARISONS = ['const', 'lt', 'lte', 'gt', 'gte', 'in', 'not_in'] as const;

/** Value checks of `duration` rules on a present Duration. */
export function compileDuration(rules: RuleObject, base: string, notes: Notes): Check | undefined {
  notes.unknownKeys(base, rules, ['required', ...COMPARISONS]);
  const check = compileBounds(base, bounds(rules, COMPARISONS), formatDuration);
  if (!check) return undefined;
  return (raw, ctx) => check(totalNanos(raw), ctx);
}

/** Value checks of `timestamp` rules on a present Timestamp; `*_now` and `within` read the clock per check. */
export function compileTimestamp(rules: RuleObject, base: string, notes: Notes): Check | undefined {
  notes.unknownKeys(base, rules, ['required', 'const', 'lt', 'lte', 'gt', 'gte', 'lt_now', 'gt_now', 'within']);
  const fixed = compileBounds(base, bounds(rules, ['const', 'lt', 'lte', 'gt', 'gte']), formatTimestamp);
  const ltNow = rules.lt_now === true;
  const gtNow = rules.gt_now === true;
  const within = rules.within === undefined || rules.within === null ? undefined : totalNanos(rules.within);
  if (!fixed && !ltNow && !gtNow && within === undefined) return undefined;
  return (raw, ctx) => {
    const t = totalNanos(raw);
    fixed?.(t, ctx);
    const now = BigInt(Date.now()) * 1_000_000n;
    if (ltNow && !(t < now)) ctx.report(`${base}lt_now`, `value must be before now (${formatTimestamp(now)}), got ${formatTimestamp(t)}`);
    if (gtNow && !(t > now)) ctx.report(`${base}gt_now`, `value must be after now (${formatTimestamp(now)}), got ${formatTimestamp(t)}`);
    if (within !== undefined && (t - now > within || now - t > within)) {
      ctx.report(`${base}within`, `value must be within ${formatDuration(within)} of now (${formatTimestamp(now)}), got ${formatTimestamp(t)}`);
    }
  };
}
