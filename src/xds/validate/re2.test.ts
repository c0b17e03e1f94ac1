import { describe, expect, test } from 'bun:test';
import { re2ToRegExp } from './re2.ts';

const matches = (pattern: string, s: string) => re2ToRegExp(pattern).test(s);

describe('re2ToRegExp', () => {
  test("Envoy's RouteMatch.path_separated_prefix pattern", () => {
    expect(matches('^[^?#]+[^?#/]$', '/api')).toBe(true);
    expect(matches('^[^?#]+[^?#/]$', '/api/')).toBe(false);
    expect(matches('^[^?#]+[^?#/]$', '/a?b')).toBe(false);
  });

  test('matching is unanchored, like RE2', () => {
    expect(matches('b+', 'abbbc')).toBe(true);
  });

  test('leading flags, named groups, \\A and \\z', () => {
    expect(matches('(?i)^abc$', 'ABC')).toBe(true);
    expect(matches('(?s)a.b', 'a\nb')).toBe(true);
    expect(matches('(?P<word>ab)c', 'abc')).toBe(true);
    expect(matches('\\Aab\\z', 'ab')).toBe(true);
    expect(matches('\\Aab\\z', 'ab\n')).toBe(false);
  });

  test('literal text, classes and escapes JS u-mode would reject', () => {
    expect(matches('^\\Qa.b\\E$', 'a.b')).toBe(true);
    expect(matches('^\\Qa.b\\E$', 'axb')).toBe(false);
    expect(matches('^[[:digit:]]+$', '123')).toBe(true);
    expect(matches('^[[:alpha:]_]+$', 'a_b')).toBe(true);
    expect(matches('^\\pL+$', 'héllo')).toBe(true);
    expect(matches('^\\p{Greek}+$', 'αβγ')).toBe(true);
    expect(matches('^a\\-b\\#c$', 'a-b#c')).toBe(true);
    expect(matches('^\\x{41}\\101$', 'AA')).toBe(true);
    expect(matches('^\\s$', '\u00a0')).toBe(false); // RE2 \s is ASCII whitespace only
    expect(matches('^.$', '😀')).toBe(true); // code points, not UTF-16 units
  });

  test('RE2 syntax without a JS equivalent throws', () => {
    expect(() => re2ToRegExp('\\C')).toThrow();
    expect(() => re2ToRegExp('(?U)a+')).toThrow();
    expect(() => re2ToRegExp('a(?i)b')).toThrow();
    expect(() => re2ToRegExp('(a)\\1')).toThrow();
    expect(() => re2ToRegExp('[[:^alpha:]]')).toThrow();
  });
});
