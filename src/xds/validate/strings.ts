import { type Check, show, type WalkContext } from './context.ts';
import type { Notes } from './notes.ts';
import { re2ToRegExp } from './re2.ts';
import { asList, num } from './rule-options.ts';
import type { RuleObject } from './types.ts';
import { headerRegex, STRING_FORMATS } from './well-known.ts';

type StringCheck = (s: string, ctx: WalkContext) => void;

const STRING_KEYS = [
  'const', 'len', 'min_len', 'max_len', 'len_bytes', 'min_bytes', 'max_bytes', 'pattern', 'prefix',
  'suffix', 'contains', 'not_contains', 'in', 'not_in', 'well_known_regex', 'strict', 'ignore_empty',
  ...Object.keys(STRING_FORMATS),
];

/** Length in Unicode code points, which is what PGV's `len`/`min_len`/`max_len` count. */
export function codePoints(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) n--, i++;
    }
  }
  return n;
}

const utf8Length = (s: string) => Buffer.byteLength(s, 'utf8');

/** Pattern check; an RE2 pattern this validator cannot translate fails closed (the value is reported). */
function compilePattern(pattern: string, rule: string, notes: Notes): StringCheck {
  let re: RegExp;
  try {
    re = re2ToRegExp(pattern);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    notes.add(rule, `pattern ${pattern} cannot be translated: ${why}`);
    return (_s, ctx) => ctx.report(rule, `pattern ${show(pattern)} cannot be checked by this validator (${why})`);
  }
  return (s, ctx) => {
    if (!re.test(s)) ctx.report(rule, `value must match pattern ${show(pattern)}, got ${show(s)}`);
  };
}

function lengthChecks(rules: RuleObject, base: string, unit: 'characters' | 'bytes', measure: (s: string) => number, keys: [string, string, string]): StringCheck[] {
  const [exact, min, max] = keys.map((k) => num(rules, k));
  const checks: StringCheck[] = [];
  if (exact !== undefined) {
    checks.push((s, ctx) => {
      const n = measure(s);
      if (n !== exact) ctx.report(base + keys[0], `value length must be exactly ${exact} ${unit}, got ${n}`);
    });
  }
  if (min !== undefined) {
    checks.push((s, ctx) => {
      const n = measure(s);
      if (n < min) ctx.report(base + keys[1], `value length must be at least ${min} ${unit}, got ${n}`);
    });
  }
  if (max !== undefined) {
    checks.push((s, ctx) => {
      const n = measure(s);
      if (n > max) ctx.report(base + keys[2], `value length must be at most ${max} ${unit}, got ${n}`);
    });
  }
  return checks;
}

/** `string` rules; `base` is e.g. `string.` or `repeated.items.string.`. */
export function compileString(rules: RuleObject, base: string, notes: Notes): Check | undefined {
  notes.unknownKeys(base, rules, STRING_KEYS);
  const checks: StringCheck[] = [];
  const text = (k: string) => (typeof rules[k] === 'string' ? (rules[k] as string) : undefined);

  const constant = text('const');
  if (constant !== undefined) {
    checks.push((s, ctx) => {
      if (s !== constant) ctx.report(`${base}const`, `value must equal ${show(constant)}, got ${show(s)}`);
    });
  }
  checks.push(...lengthChecks(rules, base, 'characters', codePoints, ['len', 'min_len', 'max_len']));
  checks.push(...lengthChecks(rules, base, 'bytes', utf8Length, ['len_bytes', 'min_bytes', 'max_bytes']));
  const pattern = text('pattern');
  if (pattern !== undefined) checks.push(compilePattern(pattern, `${base}pattern`, notes));
  const affix = (key: string, ok: (s: string, a: string) => boolean, what: string) => {
    const a = text(key);
    if (a === undefined) return;
    checks.push((s, ctx) => {
      if (!ok(s, a)) ctx.report(base + key, `value must ${what} ${show(a)}, got ${show(s)}`);
    });
  };
  affix('prefix', (s, a) => s.startsWith(a), 'start with');
  affix('suffix', (s, a) => s.endsWith(a), 'end with');
  affix('contains', (s, a) => s.includes(a), 'contain');
  affix('not_contains', (s, a) => !s.includes(a), 'not contain');
  const inList = asList(rules.in)?.map(String);
  if (inList) {
    checks.push((s, ctx) => {
      if (!inList.includes(s)) ctx.report(`${base}in`, `value must be one of [${inList.map(show).join(', ')}], got ${show(s)}`);
    });
  }
  const notIn = asList(rules.not_in)?.map(String);
  if (notIn) {
    checks.push((s, ctx) => {
      if (notIn.includes(s)) ctx.report(`${base}not_in`, `value must not be one of [${notIn.map(show).join(', ')}], got ${show(s)}`);
    });
  }
  for (const [key, [test, what]] of Object.entries(STRING_FORMATS)) {
    if (rules[key] !== true) continue;
    checks.push((s, ctx) => {
      if (!test(s)) ctx.report(base + key, `value must be ${what}, got ${show(s)}`);
    });
  }
  const known = rules.well_known_regex;
  if (known === 'HTTP_HEADER_NAME' || known === 'HTTP_HEADER_VALUE' || known === 1 || known === 2) {
    const kind = known === 'HTTP_HEADER_NAME' || known === 1 ? 'HTTP_HEADER_NAME' : 'HTTP_HEADER_VALUE';
    const strict = rules.strict !== false; // validate.proto: `optional bool strict = 25 [default = true]`
    const re = headerRegex(kind, strict);
    const what = `a valid ${strict ? '' : 'loose '}${kind === 'HTTP_HEADER_NAME' ? 'header name' : 'header value'}`;
    checks.push((s, ctx) => {
      if (!re.test(s)) ctx.report(`${base}well_known_regex`, `value must be ${what}, got ${show(s)}`);
    });
  } else if (known !== undefined && known !== 'UNKNOWN' && known !== 0) {
    notes.add(`${base}well_known_regex`, `unknown well_known_regex ${String(known)}`);
  }

  if (checks.length === 0) return undefined;
  const ignoreEmpty = rules.ignore_empty === true;
  return (raw, ctx) => {
    const s = typeof raw === 'string' ? raw : String(raw);
    if (ignoreEmpty && s === '') return;
    for (const check of checks) check(s, ctx);
  };
}
