import { type Check, type WalkContext } from './context.ts';
import type { Notes } from './notes.ts';
import { re2ToRegExp } from './re2.ts';
import { asList, num } from './rule-options.ts';
import type { RuleObject } from './types.ts';

type BytesCheck = (b: Uint8Array, ctx: WalkContext) => void;

const BYTES_KEYS = ['const', 'len', 'min_len', 'max_len', 'pattern', 'prefix', 'suffix', 'contains', 'in', 'not_in', 'ip', 'ipv4', 'ipv6', 'ignore_empty'];

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Bytes as protobufjs holds them (Uint8Array/Buffer, number[]) or as JSON/plain objects do (base64). */
export function toBytes(v: unknown): Uint8Array {
  if (v instanceof Uint8Array) return v;
  if (Array.isArray(v)) return Uint8Array.from(v as number[]);
  if (typeof v === 'string') return Uint8Array.from(Buffer.from(v, 'base64'));
  return new Uint8Array(0);
}

/**
 * Rule values of `bytes` rules come from protobufjs's .proto parser as strings, and it only understands
 * the escapes `\n \r \t \0 \\ \" \'` (`"\x01"` parses as `"01"`), so they are compared as their UTF-8
 * encoding: exact for printable ASCII rule values, which is all Envoy uses.
 */
const ruleBytes = (v: unknown): Uint8Array => encoder.encode(String(v));

const hex = (b: Uint8Array) => (b.length > 32 ? `${Buffer.from(b.subarray(0, 32)).toString('hex')}...` : Buffer.from(b).toString('hex'));

function indexOf(haystack: Uint8Array, needle: Uint8Array, from = 0): number {
  outer: for (let i = from; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

const equal = (a: Uint8Array, b: Uint8Array) => a.length === b.length && indexOf(a, b) === 0;

/** `bytes` rules; `base` is e.g. `bytes.` or `repeated.items.bytes.`. */
export function compileBytes(rules: RuleObject, base: string, notes: Notes): Check | undefined {
  notes.unknownKeys(base, rules, BYTES_KEYS);
  const checks: BytesCheck[] = [];
  const lengths: [string, (n: number, limit: number) => boolean, string][] = [
    ['len', (n, l) => n === l, 'exactly'],
    ['min_len', (n, l) => n >= l, 'at least'],
    ['max_len', (n, l) => n <= l, 'at most'],
  ];
  for (const [key, ok, what] of lengths) {
    const limit = num(rules, key);
    if (limit === undefined) continue;
    checks.push((b, ctx) => {
      if (!ok(b.length, limit)) ctx.report(base + key, `value length must be ${what} ${limit} bytes, got ${b.length}`);
    });
  }
  const bytesRule = (key: string, ok: (b: Uint8Array, r: Uint8Array) => boolean, what: string) => {
    if (rules[key] === undefined || rules[key] === null) return;
    const r = ruleBytes(rules[key]);
    checks.push((b, ctx) => {
      if (!ok(b, r)) ctx.report(base + key, `value must ${what} 0x${hex(r)}, got 0x${hex(b)}`);
    });
  };
  bytesRule('const', equal, 'equal');
  bytesRule('prefix', (b, r) => r.length <= b.length && equal(b.subarray(0, r.length), r), 'start with');
  bytesRule('suffix', (b, r) => r.length <= b.length && equal(b.subarray(b.length - r.length), r), 'end with');
  bytesRule('contains', (b, r) => indexOf(b, r) !== -1, 'contain');
  const inList = asList(rules.in)?.map(ruleBytes);
  if (inList) {
    checks.push((b, ctx) => {
      if (!inList.some((r) => equal(b, r))) ctx.report(`${base}in`, `value must be one of [${inList.map((r) => `0x${hex(r)}`).join(', ')}], got 0x${hex(b)}`);
    });
  }
  const notIn = asList(rules.not_in)?.map(ruleBytes);
  if (notIn) {
    checks.push((b, ctx) => {
      if (notIn.some((r) => equal(b, r))) ctx.report(`${base}not_in`, `value must not be one of [${notIn.map((r) => `0x${hex(r)}`).join(', ')}], got 0x${hex(b)}`);
    });
  }
  if (typeof rules.pattern === 'string') {
    const pattern = rules.pattern;
    try {
      const re = re2ToRegExp(pattern);
      checks.push((b, ctx) => {
        if (!re.test(decoder.decode(b))) ctx.report(`${base}pattern`, `value must match pattern ${JSON.stringify(pattern)}, got 0x${hex(b)}`);
      });
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      notes.add(`${base}pattern`, `pattern ${pattern} cannot be translated: ${why}`);
      checks.push((_b, ctx) => ctx.report(`${base}pattern`, `pattern ${JSON.stringify(pattern)} cannot be checked by this validator (${why})`));
    }
  }
  const ipLengths: [string, number[], string][] = [['ip', [4, 16], 'an IP address'], ['ipv4', [4], 'an IPv4 address'], ['ipv6', [16], 'an IPv6 address']];
  for (const [key, sizes, what] of ipLengths) {
    if (rules[key] !== true) continue;
    checks.push((b, ctx) => {
      if (!sizes.includes(b.length)) ctx.report(base + key, `value must be ${what} in byte form (${sizes.join(' or ')} bytes), got ${b.length} bytes`);
    });
  }
  if (checks.length === 0) return undefined;
  const ignoreEmpty = rules.ignore_empty === true;
  return (raw, ctx) => {
    const b = toBytes(raw);
    if (ignoreEmpty && b.length === 0) return;
    for (const check of checks) check(b, ctx);
  };
}
