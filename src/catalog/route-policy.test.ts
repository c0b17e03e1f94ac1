import { describe, expect, test } from 'bun:test';
import { DEFAULT_ROUTE, formatDuration, parseDuration, parseRoutePolicy, parseRoutePolicyValue, samePolicy, type RoutePolicy } from './route-policy.ts';

const KEY = '/switchyard/routes/greeter';
const parse = (policy: unknown) => parseRoutePolicy(KEY, typeof policy === 'string' ? policy : JSON.stringify(policy));
const valid = (policy: unknown): RoutePolicy => {
  const r = parse(policy);
  if (!r.ok) throw new Error(r.errors.join('\n'));
  return r.value;
};
const VERSIONS = { v1: { version: 'v1' }, v2: { version: 'v2' }, canary: { tags: { track: 'canary' } } };

describe('parseRoutePolicy: valid policies', () => {
  test('the documented example', () => {
    expect(
      valid({
        subsets: VERSIONS,
        routes: [
          { match: { headers: [{ name: 'x-canary', exact: '1' }] }, to: 'canary', timeout: '2s' },
          {
            match: { path_prefix: '/helloworld.Greeter/' },
            split: { v1: 90, v2: 10 },
            retry: { on: ['unavailable'], retries: 3, backoff: { base: '25ms', max: '250ms' } },
          },
        ],
      }),
    ).toEqual({
      subsets: [
        { name: 'v1', version: 'v1', tags: {} },
        { name: 'v2', version: 'v2', tags: {} },
        { name: 'canary', tags: { track: 'canary' } },
      ],
      routes: [
        {
          match: { pathPrefix: '/', headers: [{ name: 'x-canary', kind: 'exact', value: '1' }] },
          targets: [{ to: 'canary', weight: 100 }],
          timeoutMs: 2000,
        },
        {
          match: { pathPrefix: '/helloworld.Greeter/', headers: [] },
          targets: [
            { to: 'v1', weight: 90 },
            { to: 'v2', weight: 10 },
          ],
          retry: { on: ['unavailable'], retries: 3, backoff: { baseMs: 25, maxMs: 250 } },
        },
        DEFAULT_ROUTE,
      ],
    });
  });

  test('a catch-all split is kept last and no default is appended', () => {
    expect(valid({ subsets: VERSIONS, routes: [{ split: { v1: 50, v2: 50 } }] })).toEqual({
      subsets: expect.any(Array),
      routes: [
        {
          targets: [
            { to: 'v1', weight: 50 },
            { to: 'v2', weight: 50 },
          ],
        },
      ],
    });
  });

  test('"*" and a missing "to" both mean the whole service; subsets are optional', () => {
    expect(valid({ routes: [{ match: { headers: [{ name: 'x-debug', present: true }] }, to: '*', timeout: '1.5s' }, { retry: { on: ['unavailable', 'internal'] } }] })).toEqual({
      subsets: [],
      routes: [
        { match: { pathPrefix: '/', headers: [{ name: 'x-debug', kind: 'present' }] }, targets: [{ to: '*', weight: 100 }], timeoutMs: 1500 },
        { targets: [{ to: '*', weight: 100 }], retry: { on: ['unavailable', 'internal'], retries: 1 } },
      ],
    });
  });

  test('a split may send a share to the whole service; selectors may combine version and tags', () => {
    const p = valid({
      subsets: { 'v2.canary-eu_1': { version: 'v2', tags: { track: 'canary', region: 'eu' } } },
      routes: [{ match: { headers: [{ name: 'x-user', prefix: 'beta-' }, { name: 'x-a.b_c', exact: '' }] }, split: { '*': 95, 'v2.canary-eu_1': 5 } }],
    });
    expect(p).toEqual({
      subsets: [{ name: 'v2.canary-eu_1', version: 'v2', tags: { track: 'canary', region: 'eu' } }],
      routes: [
        {
          match: {
            pathPrefix: '/',
            headers: [
              { name: 'x-user', kind: 'prefix', value: 'beta-' },
              { name: 'x-a.b_c', kind: 'exact', value: '' },
            ],
          },
          targets: [
            { to: '*', weight: 95 },
            { to: 'v2.canary-eu_1', weight: 5 },
          ],
        },
        DEFAULT_ROUTE,
      ],
    });
  });

  test('limits are inclusive: 100 routes, 50 subsets, 4 retries, 1h, a 63-character subset name', () => {
    const subsets = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`s${i}`, { version: `${i}` }]));
    const routes = Array.from({ length: 100 }, (_, i) => ({ match: { path_prefix: `/p${i}.S/` }, to: `s${i % 50}` }));
    expect(valid({ subsets, routes }).routes).toHaveLength(101);
    const long = `a${'b'.repeat(61)}c`;
    expect(valid({ subsets: { [long]: { version: 'x' } }, routes: [{ to: long, timeout: '1h', retry: { on: ['cancelled'], retries: 4, backoff: { base: '1h', max: '1h' } } }] }).routes[0]).toEqual({
      targets: [{ to: long, weight: 100 }],
      timeoutMs: 3_600_000,
      retry: { on: ['cancelled'], retries: 4, backoff: { baseMs: 3_600_000, maxMs: 3_600_000 } },
    });
  });

  test('identical policies compare equal, different ones do not', () => {
    const text = { subsets: VERSIONS, routes: [{ split: { v1: 90, v2: 10 } }] };
    expect(samePolicy(valid(text), valid(text))).toBe(true);
    expect(samePolicy(valid(text), valid({ ...text, routes: [{ split: { v1: 50, v2: 50 } }] }))).toBe(false);
    expect(samePolicy(undefined, undefined)).toBe(true);
    expect(samePolicy(valid(text), undefined)).toBe(false);
  });
});

describe('parseRoutePolicy: rejections name the key and the field', () => {
  test("not JSON, with the parser's reason", () => {
    expect(parse('{"routes": [')).toEqual({ ok: false, errors: [expect.stringMatching(/^\/switchyard\/routes\/greeter: value is not valid JSON: .+/)] });
  });

  const defined = 'defined: v1, v2, canary';
  test.each<[string, unknown, string[]]>([
    ['not an object', [1], [`${KEY}: value must be a JSON object`]],
    ['no routes', {}, [`${KEY}: routes: required`]],
    ['routes not a list', { routes: 5 }, [`${KEY}: routes: expected a list of routes, got 5`]],
    ['no route', { routes: [] }, [`${KEY}: routes: expected 1 to 100 routes, got 0`]],
    ['too many routes', { routes: Array.from({ length: 101 }, () => ({})) }, [`${KEY}: routes: expected 1 to 100 routes, got 101`]],
    ['unknown top-level field', { routes: [{}], colour: 'red' }, [`${KEY}: colour: unknown field; known fields: subsets, routes`]],
    ['unknown route field', { routes: [{ splt: { a: 1 } }] }, [`${KEY}: routes[0].splt: unknown field; known fields: match, to, split, timeout, retry`]],
    // subsets
    ['empty subsets', { subsets: {}, routes: [{}] }, [`${KEY}: subsets: empty; define at least one subset or leave "subsets" out`]],
    ['subsets not an object', { subsets: ['v1'], routes: [{}] }, [`${KEY}: subsets: expected an object of subset name → selector, got ["v1"]`]],
    [
      'too many subsets',
      { subsets: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`s${i}`, { version: 'x' }])), routes: [{}] },
      [`${KEY}: subsets: 51 subsets; at most 50 are allowed`],
    ],
    [
      'invalid subset names',
      { subsets: { V1: { version: 'v1' }, '-a': { version: 'a' }, 'a/b': { version: 'b' }, [`a${'b'.repeat(63)}`]: { version: 'c' } }, routes: [{}] },
      [
        `${KEY}: subsets.V1: invalid subset name "V1": use 1 to 63 lowercase letters, digits, '.', '-' and '_', starting and ending with a letter or digit`,
        `${KEY}: subsets.-a: invalid subset name "-a": use 1 to 63 lowercase letters, digits, '.', '-' and '_', starting and ending with a letter or digit`,
        `${KEY}: subsets["a/b"]: invalid subset name "a/b": use 1 to 63 lowercase letters, digits, '.', '-' and '_', starting and ending with a letter or digit`,
        `${KEY}: subsets.a${'b'.repeat(63)}: invalid subset name "a${'b'.repeat(63)}": use 1 to 63 lowercase letters, digits, '.', '-' and '_', starting and ending with a letter or digit`,
      ],
    ],
    [
      'empty selectors',
      { subsets: { a: {}, b: { tags: {} } }, routes: [{}] },
      [`${KEY}: subsets.a: selector is empty; set "version" and/or "tags"`, `${KEY}: subsets.b: selector is empty; set "version" and/or "tags"`],
    ],
    [
      'bad selector fields',
      { subsets: { a: { version: '' }, b: { version: 2 }, c: { tags: { t: 1 } }, d: { tag: {} } }, routes: [{}] },
      [
        `${KEY}: subsets.a.version: must not be empty`,
        `${KEY}: subsets.b.version: expected a non-empty string, got 2`,
        `${KEY}: subsets.c.tags.t: expected a string, got 1`,
        `${KEY}: subsets.d.tag: unknown field; known fields: version, tags`,
        `${KEY}: subsets.d: selector is empty; set "version" and/or "tags"`,
      ],
    ],
    // targets
    ['unknown subset in to', { subsets: VERSIONS, routes: [{ to: 'canry' }] }, [`${KEY}: routes[0].to: unknown subset "canry"; ${defined}`]],
    ['to without subsets', { routes: [{ to: 'v1' }] }, [`${KEY}: routes[0].to: unknown subset "v1"; no subsets are defined`]],
    ['empty to', { subsets: VERSIONS, routes: [{ to: '' }] }, [`${KEY}: routes[0].to: unknown subset ""; ${defined}`]],
    ['to not a string', { routes: [{ to: 1 }] }, [`${KEY}: routes[0].to: expected a subset name or "*", got 1`]],
    [
      'unknown subsets in split',
      { subsets: VERSIONS, routes: [{ split: { v1: 50, v3: 40, v4: 10 } }] },
      [`${KEY}: routes[0].split: unknown subset "v3"; ${defined}`, `${KEY}: routes[0].split: unknown subset "v4"; ${defined}`],
    ],
    ['weights that do not sum to 100', { subsets: VERSIONS, routes: [{ split: { v1: 90, v2: 5 } }] }, [`${KEY}: routes[0].split: weights sum to 95, expected 100`]],
    [
      'weights sum, in the second route',
      { subsets: VERSIONS, routes: [{ match: { headers: [{ name: 'x-canary', exact: '1' }] }, to: 'canary' }, { split: { v1: 90, v2: 5 } }] },
      [`${KEY}: routes[1].split: weights sum to 95, expected 100`],
    ],
    ['weights over 100', { subsets: VERSIONS, routes: [{ split: { v1: 90, v2: 20 } }] }, [`${KEY}: routes[0].split: weights sum to 110, expected 100`]],
    ['empty split', { routes: [{ split: {} }] }, [`${KEY}: routes[0].split: empty; give at least one subset a weight`]],
    [
      'weights that are not integers from 1 to 100',
      { subsets: VERSIONS, routes: [{ split: { v1: 0, v2: 99.5, canary: '1' } }] },
      [
        `${KEY}: routes[0].split.v1: expected an integer from 1 to 100, got 0`,
        `${KEY}: routes[0].split.v2: expected an integer from 1 to 100, got 99.5`,
        `${KEY}: routes[0].split.canary: expected an integer from 1 to 100, got "1"`,
      ],
    ],
    ['split not an object', { routes: [{ split: [100] }] }, [`${KEY}: routes[0].split: expected an object of subset name → weight, got [100]`]],
    ['to and split', { subsets: VERSIONS, routes: [{ to: 'v1', split: { v1: 100 } }] }, [`${KEY}: routes[0]: set either "to" or "split", not both`]],
    [
      'a route after a catch-all',
      { subsets: VERSIONS, routes: [{ to: 'v1' }, { match: { headers: [{ name: 'x-canary', present: true }] }, to: 'canary' }, {}] },
      [`${KEY}: routes[1]: unreachable: routes[0] has no "match" and takes every call; put it last`],
    ],
    // header matchers
    [
      'header matcher with two kinds or none',
      { routes: [{ match: { headers: [{ name: 'x-a', exact: '1', prefix: '1' }, { name: 'x-b' }, { name: 'x-c', exact: '1', present: true, prefix: 'x' }] } }] },
      [
        `${KEY}: routes[0].match.headers[0]: set exactly one of "exact", "prefix", "present"; got "exact", "prefix"`,
        `${KEY}: routes[0].match.headers[1]: set exactly one of "exact", "prefix", "present"; got none`,
        `${KEY}: routes[0].match.headers[2]: set exactly one of "exact", "prefix", "present"; got "exact", "prefix", "present"`,
      ],
    ],
    [
      'invalid header names',
      {
        routes: [
          {
            match: {
              headers: [
                { name: 'X-Canary', exact: '1' },
                { name: ':authority', exact: 'a' },
                { name: 'x canary', exact: '1' },
                { name: '', exact: '1' },
                { name: 'grpc-timeout', present: true },
                { name: 'x-trace-bin', present: true },
                { exact: '1' },
              ],
            },
          },
        ],
      },
      [
        `${KEY}: routes[0].match.headers[0].name: "X-Canary" is not a valid header name; use lowercase letters, digits, '-', '_' and '.'`,
        `${KEY}: routes[0].match.headers[1].name: ":authority" is a pseudo-header; only regular headers can be matched`,
        `${KEY}: routes[0].match.headers[2].name: "x canary" is not a valid header name; use lowercase letters, digits, '-', '_' and '.'`,
        `${KEY}: routes[0].match.headers[3].name: "" is not a valid header name; use lowercase letters, digits, '-', '_' and '.'`,
        `${KEY}: routes[0].match.headers[4].name: "grpc-timeout": "grpc-" headers are reserved by gRPC and cannot be matched`,
        `${KEY}: routes[0].match.headers[5].name: "x-trace-bin": binary ("-bin") headers never match in gRPC clients`,
        `${KEY}: routes[0].match.headers[6].name: required`,
      ],
    ],
    [
      'invalid header values',
      { routes: [{ match: { headers: [{ name: 'a', prefix: '' }, { name: 'b', exact: ' 1' }, { name: 'c', exact: 'é' }, { name: 'd', present: false }, { name: 'e', exact: 1 }] } }] },
      [
        `${KEY}: routes[0].match.headers[0].prefix: must not be empty; use "present": true to match any value`,
        `${KEY}: routes[0].match.headers[1].exact: value must be printable ASCII without leading or trailing spaces`,
        `${KEY}: routes[0].match.headers[2].exact: value must be printable ASCII without leading or trailing spaces`,
        `${KEY}: routes[0].match.headers[3].present: must be true (matching a missing header is not supported)`,
        `${KEY}: routes[0].match.headers[4].exact: expected a string, got 1`,
      ],
    ],
    [
      'empty match and empty headers',
      { routes: [{ match: {} }, { match: { headers: [] } }, { match: { headers: {} } }, { match: 'x-canary' }] },
      [
        `${KEY}: routes[0].match: empty; leave "match" out for a route that takes every call`,
        `${KEY}: routes[1].match.headers: empty; list at least one header or leave "headers" out`,
        `${KEY}: routes[2].match.headers: expected a list of header matchers, got {}`,
        `${KEY}: routes[3].match: expected an object, got "x-canary"`,
      ],
    ],
    [
      'bad path prefixes',
      { routes: [{ match: { path_prefix: 'pkg.Service/' } }, { match: { path_prefix: '/a/b/c' } }, { match: { path_prefix: '/a b' } }, { match: { path_prefix: '/a?b' } }] },
      [
        `${KEY}: routes[0].match.path_prefix: must start with "/" and be printable ASCII without spaces, "?" or "#"`,
        `${KEY}: routes[1].match.path_prefix: "/a/b/c" has more than two "/"; gRPC C-core ignores such routes (use "/pkg.Service/" or "/pkg.Service/Method")`,
        `${KEY}: routes[2].match.path_prefix: must start with "/" and be printable ASCII without spaces, "?" or "#"`,
        `${KEY}: routes[3].match.path_prefix: must start with "/" and be printable ASCII without spaces, "?" or "#"`,
      ],
    ],
    // durations
    [
      'bad timeouts',
      { routes: [{ timeout: '2x' }, { timeout: 5 }, { timeout: '0s' }, { timeout: '61m' }, { timeout: '0.5ms' }, { timeout: '-1s' }, { timeout: '1s ' }] },
      [
        `${KEY}: routes[0].timeout: "2x" is not a duration; write a number with ms, s, m or h, such as "500ms", "2s", "1.5s"`,
        `${KEY}: routes[1].timeout: expected a duration such as "2s" or "500ms", got 5`,
        `${KEY}: routes[2].timeout: must be greater than 0, got "0s"`,
        `${KEY}: routes[3].timeout: must be at most 1h, got "61m"`,
        `${KEY}: routes[4].timeout: "0.5ms" is finer than a millisecond`,
        `${KEY}: routes[5].timeout: "-1s" is not a duration; write a number with ms, s, m or h, such as "500ms", "2s", "1.5s"`,
        `${KEY}: routes[6].timeout: "1s " is not a duration; write a number with ms, s, m or h, such as "500ms", "2s", "1.5s"`,
      ],
    ],
    // retry
    [
      'retry codes',
      { routes: [{ retry: { on: ['unavailble', 'unavailable', 'unavailable', 'UNAVAILABLE'] } }, { retry: { on: [] } }, { retry: {} }, { retry: { on: 'unavailable' } }] },
      [
        `${KEY}: routes[0].retry.on[0]: "unavailble" is not retryable; use cancelled, deadline-exceeded, internal, resource-exhausted, unavailable`,
        `${KEY}: routes[0].retry.on[2]: "unavailable" is listed twice`,
        `${KEY}: routes[0].retry.on[3]: "UNAVAILABLE" is not retryable; use cancelled, deadline-exceeded, internal, resource-exhausted, unavailable`,
        `${KEY}: routes[1].retry.on: empty; list at least one of cancelled, deadline-exceeded, internal, resource-exhausted, unavailable`,
        `${KEY}: routes[2].retry.on: required`,
        `${KEY}: routes[3].retry.on: expected a list of status names, got "unavailable"`,
      ],
    ],
    [
      'retry counts',
      { routes: [{ retry: { on: ['internal'], retries: 0 } }, { retry: { on: ['internal'], retries: 5 } }, { retry: { on: ['internal'], attempts: 3 } }] },
      [
        `${KEY}: routes[0].retry.retries: expected an integer from 1 to 4, got 0`,
        `${KEY}: routes[1].retry.retries: expected an integer from 1 to 4, got 5`,
        `${KEY}: routes[2].retry.attempts: unknown field; known fields: on, retries, backoff`,
      ],
    ],
    [
      'retry backoff',
      {
        routes: [
          { retry: { on: ['internal'], backoff: { max: '1s' } } },
          { retry: { on: ['internal'], backoff: { base: '1s', max: '500ms' } } },
          { retry: { on: ['internal'], backoff: { base: '0ms' } } },
          { retry: { on: ['internal'], backoff: '25ms' } },
        ],
      },
      [
        `${KEY}: routes[0].retry.backoff.base: required`,
        `${KEY}: routes[1].retry.backoff.max: must be at least base (1s), got 500ms`,
        `${KEY}: routes[2].retry.backoff.base: must be greater than 0, got "0ms"`,
        `${KEY}: routes[3].retry.backoff: expected an object, got "25ms"`,
      ],
    ],
  ])('%s', (_name, policy, errors) => {
    expect(parse(policy)).toEqual({ ok: false, errors });
  });
});

test('parseRoutePolicyValue: the same reasons without the key', () => {
  expect(parseRoutePolicyValue('{"routes":[{"split":{"*":95}}]}')).toEqual({ ok: false, errors: ['routes[0].split: weights sum to 95, expected 100'] });
  expect(parseRoutePolicyValue('[]')).toEqual({ ok: false, errors: ['value must be a JSON object'] });
  expect(parseRoutePolicyValue('{"routes":[{}]}')).toEqual(parseRoutePolicy('k', '{"routes":[{}]}'));
});

describe('durations', () => {
  test.each([
    ['1ms', 1],
    ['500ms', 500],
    ['2s', 2000],
    ['1.5s', 1500],
    ['0.001s', 1],
    ['1.25m', 75_000],
    ['1h', 3_600_000],
    ['3600000ms', 3_600_000],
  ])('%s = %d ms', (text, ms) => {
    expect(parseDuration(text)).toEqual({ ok: true, value: ms });
  });
  test.each([
    [1500, '1500ms'],
    [2000, '2s'],
    [90_000, '90s'],
    [120_000, '2m'],
    [3_600_000, '1h'],
  ])('%d ms reads %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
