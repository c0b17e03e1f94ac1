/**
 * Best-effort translation of an RE2 pattern (the syntax of PGV `string.pattern`) into a JS RegExp with
 * the `u` flag, so both match code points. Throws for RE2 syntax that has no JS equivalent here (`\C`,
 * the `U` flag, flags set mid-pattern, negated POSIX classes); callers treat that as "cannot check".
 *
 * Handled: leading `(?flags)`, `(?P<name>…)`, `\A`, `\z`, `\Q…\E`, `\pL`/`\p{Greek}`, POSIX classes
 * `[[:alpha:]]`, `\x{…}`, octal escapes, RE2's ASCII-only `\s`, and escaped punctuation that JS `u`
 * mode rejects (`\-`, `\#`, …). RE2 matching is unanchored, like `RegExp.test`.
 */
export function re2ToRegExp(pattern: string): RegExp {
  let src = pattern;
  let flags = 'u';
  const lead = /^\(\?([a-zA-Z]+)\)/.exec(src);
  if (lead) {
    for (const f of lead[1]!) {
      if (f === 'i' || f === 'm' || f === 's') flags += flags.includes(f) ? '' : f;
      else throw new Error(`RE2 flag ${f} is not supported`);
    }
    src = src.slice(lead[0].length);
  }
  return new RegExp(translate(src), flags);
}

const JS_SYNTAX = new Set('^$\\.*+?()[]{}|/'.split(''));
const CATEGORY = /^(?:[LMNPSZC][a-z]?|Any)$/;
const POSIX: Record<string, string> = {
  alnum: '0-9A-Za-z', alpha: 'A-Za-z', ascii: '\\x00-\\x7F', blank: '\\t ', cntrl: '\\x00-\\x1F\\x7F',
  digit: '0-9', graph: '!-~', lower: 'a-z', print: ' -~', punct: '!-\\/:-@\\[-`{-~',
  space: '\\t\\n\\v\\f\\r ', upper: 'A-Z', word: '0-9A-Za-z_', xdigit: '0-9A-Fa-f',
};
const RE2_SPACE = '\\t\\n\\f\\r ';

const codePoint = (cp: number) => `\\u{${cp.toString(16)}}`;

function translate(src: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (c === '[') {
      const posix = /^\[:(\^?)([a-z]+):\]/.exec(src.slice(i));
      if (inClass && posix) {
        if (posix[1] || POSIX[posix[2]!] === undefined) throw new Error(`POSIX class ${posix[0]} is not supported`);
        out += POSIX[posix[2]!];
        i += posix[0].length - 1;
        continue;
      }
      if (!inClass) {
        inClass = true;
        out += '[';
        if (src[i + 1] === '^') out += src[++i];
        if (src[i + 1] === ']') out += '\\]', i++; // a leading `]` is a literal in RE2
        continue;
      }
      out += '\\[';
      continue;
    }
    if (c === ']' && inClass) {
      inClass = false;
      out += ']';
      continue;
    }
    if (!inClass && src.startsWith('(?P<', i)) {
      out += '(?<';
      i += 3;
      continue;
    }
    if (!inClass && /^\(\?[a-zA-Z]+\)/.test(src.slice(i))) throw new Error('flags set mid-pattern are not supported');
    if (c !== '\\') {
      out += c;
      continue;
    }
    const [text, consumed] = escape(src, i, inClass);
    out += text;
    i += consumed - 1;
  }
  return out;
}

/** Translates the escape starting at src[i] (a backslash); returns the JS text and characters consumed. */
function escape(src: string, i: number, inClass: boolean): [string, number] {
  const n = src[i + 1];
  if (n === undefined) throw new Error('trailing backslash');
  switch (n) {
    case 'A':
      return ['(?<![\\s\\S])', 2];
    case 'z':
      return ['(?![\\s\\S])', 2];
    case 'C':
      throw new Error('\\C is not supported');
    case 'a':
      return ['\\x07', 2];
    case 's':
      return [inClass ? RE2_SPACE : `[${RE2_SPACE}]`, 2];
    case 'S':
      return [inClass ? '\\S' : `[^${RE2_SPACE}]`, 2];
    case 'Q': {
      const end = src.indexOf('\\E', i + 2);
      const literal = src.slice(i + 2, end === -1 ? undefined : end);
      const text = [...literal].map((ch) => codePoint(ch.codePointAt(0)!)).join('');
      return [text, (end === -1 ? src.length : end + 2) - i];
    }
    case 'p':
    case 'P': {
      const braced = /^\{(\^?)([A-Za-z_]+)\}/.exec(src.slice(i + 2));
      const name = braced ? braced[2]! : src[i + 2];
      if (!name) throw new Error('bad \\p escape');
      const negate = (n === 'P') !== Boolean(braced?.[1]);
      const prop = CATEGORY.test(name) ? name : `Script=${name}`;
      return [`\\${negate ? 'P' : 'p'}{${prop}}`, braced ? 2 + braced[0].length : 3];
    }
    case 'x': {
      const braced = /^\{([0-9A-Fa-f]+)\}/.exec(src.slice(i + 2));
      if (braced) return [codePoint(Number.parseInt(braced[1]!, 16)), 2 + braced[0].length];
      return [src.slice(i, i + 4), 4];
    }
    default:
      break;
  }
  const octal = /^[0-7]{1,3}/.exec(src.slice(i + 1));
  if (octal) {
    // RE2 reads `\0`, `\12`, `\123` as octal and rejects a lone `\1`…`\7` (a Perl backreference).
    if (/^[1-7]$/.test(octal[0])) throw new Error('backreferences are not supported in RE2');
    return [codePoint(Number.parseInt(octal[0], 8)), 1 + octal[0].length];
  }
  if (/[A-Za-z0-9]/.test(n)) return [`\\${n}`, 2]; // \d \w \b \n \t \f \v \r …: same meaning in JS
  if (JS_SYNTAX.has(n) || (inClass && n === '-')) return [`\\${n}`, 2];
  return [codePoint(n.codePointAt(0)!), 2];
}
