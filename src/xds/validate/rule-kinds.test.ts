import { describe, expect, test } from 'bun:test';
import { existsSync } from 'node:fs';
import path from 'node:path';
import protobuf from 'protobufjs';
import { protoIncludeDirs } from '../proto.ts';
import { createValidator, unsupportedRules } from './index.ts';

// Every rule kind the validator supports, on the test-only messages of testdata/rules.proto (loaded
// into a separate Root with the same include dirs as the Envoy protos). Each case starts from a valid
// message, breaks one field, encodes it and expects exactly [path, rule] back from the bytes.

const PKG = 'switchyard.validate.test';

function loadTestRoot(): protobuf.Root {
  const dirs = [path.join(import.meta.dir, 'testdata'), ...protoIncludeDirs()];
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => {
    if (path.isAbsolute(target) && existsSync(target)) return target;
    const hit = dirs.map((d) => path.join(d, target)).find((p) => existsSync(p));
    if (!hit) throw new Error(`${target} not found`);
    return hit;
  };
  root.loadSync('rules.proto', { keepCase: true });
  root.resolveAll();
  return root;
}

const root = loadTestRoot();
const validator = createValidator(root);
const url = (name: string) => `type.googleapis.com/${PKG}.${name}`;

function encode(name: string, value: object): Uint8Array {
  const type = root.lookupType(`${PKG}.${name}`);
  return type.encode(type.fromObject(value)).finish();
}

/** [path, rule] of each error for `value` as message `name`, validated from its encoded bytes. */
function violations(name: string, value: object): [string, string][] {
  return validator.validateResource(url(name), encode(name, value)).map((e) => [e.path, e.rule]);
}

/** [path, rule] for a plain object (for shapes the wire cannot carry, e.g. two oneof members). */
function plainViolations(name: string, value: object): [string, string][] {
  return validator.validateMessage(`${PKG}.${name}`, value).map((e) => [e.path, e.rule]);
}

type Case = [field: string, value: unknown, rule: string];

function runCases(message: string, valid: Record<string, unknown>, cases: Case[]) {
  test('the valid base passes', () => {
    expect(violations(message, valid)).toEqual([]);
  });
  cases.forEach(([field, value, rule], i) => {
    test(`#${i} ${message}.${field} breaks ${rule}`, () => {
      expect(violations(message, { ...valid, [field]: value })).toEqual([[field, rule]]);
    });
  });
}

const VALID_STRINGS: Record<string, unknown> = {
  const_: 'abc', len: 'abc', min_max: 'abc', bytes_len: 'ab', len_bytes: 'abc', prefix: 'prefix', suffix: 'xpost',
  contains: 'amidb', not_contains: 'good', in: 'a', not_in: 'z', pattern: 'abc1', ignore_empty: '',
  header_name: ':authority', header_value: 'a\tb', header_loose: 'not a token', email: 'Ann <ann@example.com>',
  hostname: 'api.example.com.', ip: '2001:db8::1', ipv4: '192.0.2.1', ipv6: '::1', uri: 'https://example.com/a?b#c',
  uri_ref: '../a/b', address: '10.0.0.1', uuid: '123e4567-e89b-12d3-a456-426614174000', multi_option: 'ab',
};

describe('string', () => {
  runCases('Strings', VALID_STRINGS, [
    ['const_', 'abd', 'string.const'],
    ['len', 'ab', 'string.len'],
    ['len', '日本', 'string.len'],
    ['min_max', 'a', 'string.min_len'],
    ['min_max', 'abcde', 'string.max_len'],
    ['bytes_len', 'a', 'string.min_bytes'],
    ['bytes_len', 'ééé', 'string.max_bytes'],
    ['len_bytes', 'é', 'string.len_bytes'],
    ['prefix', 'xpre', 'string.prefix'],
    ['suffix', 'postx', 'string.suffix'],
    ['contains', 'mi-d', 'string.contains'],
    ['not_contains', 'so bad', 'string.not_contains'],
    ['in', 'c', 'string.in'],
    ['not_in', 'y', 'string.not_in'],
    ['pattern', 'abc', 'string.pattern'],
    ['ignore_empty', 'abc', 'string.min_len'],
    ['header_name', 'bad name', 'string.well_known_regex'],
    ['header_value', 'a\u0001b', 'string.well_known_regex'],
    ['header_loose', 'a\rb', 'string.well_known_regex'],
    ['email', 'ann@', 'string.email'],
    ['hostname', '-bad.example.com', 'string.hostname'],
    ['ip', '300.1.1.1', 'string.ip'],
    ['ipv4', '::1', 'string.ipv4'],
    ['ipv6', '10.0.0.1', 'string.ipv6'],
    ['uri', '/relative', 'string.uri'],
    ['uri_ref', 'a b', 'string.uri_ref'],
    ['address', 'bad_host!', 'string.address'],
    ['uuid', '123e4567e89b12d3a456426614174000', 'string.uuid'],
    ['multi_option', 'abcd', 'string.max_len'],
  ]);

  test('len counts code points, not UTF-16 units', () => {
    expect(violations('Strings', { ...VALID_STRINGS, len: '😀😀😀' })).toEqual([]);
  });

  test('an unset scalar is checked as its default value', () => {
    const { const_: _, ...rest } = VALID_STRINGS;
    expect(violations('Strings', rest)).toEqual([['const_', 'string.const']]);
  });
});

describe('numbers and bool', () => {
  runCases(
    'Numbers',
    { i32: 0, i64: '9007199254740993', u32: 65535, u64: 999, s32: 2, s64: 0, f32: 42, f64: 10, sf32: 11, sf64: -1, flt: 0.5, dbl: 3, ignored_zero: 0, flt_const: 0.1, must_be_true: true, in_one: 4 },
    [
      ['i32', 5, 'int32.lt'],
      ['i32', -5, 'int32.gt'],
      ['i64', 9, 'int64.gte'],
      ['u32', 70000, 'uint32.lte'],
      ['u64', 1000, 'uint64.lt'],
      ['s32', 4, 'sint32.in'],
      ['s64', 7, 'sint64.not_in'],
      ['f32', 41, 'fixed32.const'],
      ['f64', 0, 'fixed64.gte'],
      ['f64', 11, 'fixed64.lte'],
      ['sf32', 0, 'sfixed32.lt|gt'],
      ['sf32', 10, 'sfixed32.lt|gt'],
      ['sf64', -2, 'sfixed64.gte'],
      ['flt', 1, 'float.lt'],
      ['flt', 0, 'float.gt'],
      ['dbl', 1, 'double.lte|gte'],
      ['dbl', Number.NaN, 'double.lte|gte'],
      ['ignored_zero', 5, 'uint32.gte'],
      ['flt_const', 0.2, 'float.const'],
      ['must_be_true', false, 'bool.const'],
      ['in_one', 3, 'int32.in'],
    ],
  );

  test('reversed ranges accept both outer sides; float const compares float32 values', () => {
    const base = { i64: 10, f32: 42, f64: 1, s32: 1, must_be_true: true, in_one: 4, flt: 0.5, flt_const: 0.1 };
    expect(violations('Numbers', { ...base, sf32: -11, dbl: 0.5 })).toEqual([]);
    expect(violations('Numbers', { ...base, sf32: 11, dbl: 2.5 })).toEqual([]);
  });

  test('messages read well', () => {
    const errors = validator.validateResource(url('Numbers'), encode('Numbers', { i64: 10, f32: 42, f64: 1, s32: 1, must_be_true: true, in_one: 4, flt: 0.5, flt_const: 0.1, sf32: 0, dbl: 1, i32: 9 }));
    expect(errors.map((e) => e.message)).toEqual([
      'value must be in range (-5, 5), got 9',
      'value must be < -10 or > 10, got 0',
      'value must be <= 0.5 or >= 2.5, got 1',
    ]);
  });
});

describe('enum', () => {
  runCases('Enums', { defined: 'RED', const_: 'GREEN', in: 'RED', not_in: 'RED' }, [
    ['defined', 7, 'enum.defined_only'],
    ['const_', 'RED', 'enum.const'],
    ['in', 'BLUE', 'enum.in'],
    ['not_in', 'COLOR_UNSPECIFIED', 'enum.not_in'],
  ]);

  test('plain objects may name values; an unknown name is not a defined value', () => {
    expect(plainViolations('Enums', { defined: 'PURPLE', const_: 'GREEN', in: 'RED', not_in: 'RED' })).toEqual([['defined', 'enum.defined_only']]);
  });
});

describe('message, oneof and presence', () => {
  const base = { required: { name: 'x' }, a: 'set' };

  test('message.required', () => {
    expect(violations('Messages', { a: 'set' })).toEqual([['required', 'message.required']]);
  });

  test('nested messages are validated when present; message.skip stops that', () => {
    expect(violations('Messages', { ...base, required: { name: '' }, plain: { name: '' }, skipped: { name: '' } })).toEqual([
      ['required.name', 'string.min_len'],
      ['plain.name', 'string.min_len'],
    ]);
  });

  test('oneof (validate.required): exactly one member set', () => {
    expect(violations('Messages', { required: { name: 'x' } })).toEqual([['choice', 'oneof.required']]);
    expect(violations('Messages', { required: { name: 'x' }, b: { name: 'y' } })).toEqual([]);
    expect(violations('Messages', { required: { name: 'x' }, b: {} })).toEqual([['b.name', 'string.min_len']]);
    expect(plainViolations('Messages', { required: { name: 'x' }, a: 'one', b: { name: 'two' } })).toEqual([['choice', 'oneof.required']]);
  });

  test('rules on oneof members apply only to the member that is set, including a zero value', () => {
    expect(violations('Messages', base)).toEqual([]);
    expect(violations('Messages', { ...base, c: 'ab' })).toEqual([['c', 'string.min_len']]);
    expect(violations('Messages', { ...base, d: 0 })).toEqual([['d', 'uint32.gte']]);
  });

  test('proto3 optional: rules apply only when set', () => {
    expect(violations('Messages', { ...base, maybe: '' })).toEqual([['maybe', 'string.min_len']]);
    expect(violations('Messages', { ...base, maybe: 'ok' })).toEqual([]);
  });

  test('(validate.disabled) turns off a message\'s own rules, not its parent\'s', () => {
    expect(violations('HasDisabled', { inner: { name: '' } })).toEqual([]);
    expect(violations('HasDisabled', {})).toEqual([['inner', 'message.required']]);
  });

  test('recursive messages', () => {
    expect(violations('Recursive', { name: 'a', child: { name: 'b', child: { name: '' } } })).toEqual([['child.child.name', 'string.min_len']]);
  });
});

describe('repeated', () => {
  runCases('Repeated', { min_max: ['a'], unique: [1, 2], ports: [1, 65535], leaves: [{ name: 'a' }], skipped: [{ name: '' }], colors: ['RED'] }, [
    ['min_max', [], 'repeated.min_items'],
    ['min_max', ['a', 'b', 'c'], 'repeated.max_items'],
    ['ignore_empty', ['a'], 'repeated.min_items'],
  ]);

  test('unique, items rules and nested messages name the item', () => {
    expect(violations('Repeated', { min_max: ['a'], unique: [1, 2, 1], ports: [80, 0, 70000], leaves: [{ name: 'a' }, { name: '' }], colors: ['RED', 9] })).toEqual([
      ['unique[2]', 'repeated.unique'],
      ['ports[1]', 'repeated.items.uint32.gte'],
      ['ports[2]', 'repeated.items.uint32.lte'],
      ['leaves[1].name', 'string.min_len'],
      ['colors[1]', 'repeated.items.enum.defined_only'],
    ]);
  });
});

describe('map', () => {
  const base = { pairs: { a: 1 } };
  test('min_pairs / max_pairs', () => {
    expect(violations('Maps', base)).toEqual([]);
    expect(violations('Maps', { pairs: {} })).toEqual([['pairs', 'map.min_pairs']]);
    expect(violations('Maps', { pairs: { a: 1, b: 2, c: 3 } })).toEqual([['pairs', 'map.max_pairs']]);
  });

  test('keys and values rules; message values are validated', () => {
    expect(violations('Maps', { ...base, keyed: { x: { name: 'ok' }, yy: { name: '' } } })).toEqual([
      ['keyed["x"]', 'map.keys.string.min_len'],
      ['keyed["yy"].name', 'string.min_len'],
    ]);
    expect(violations('Maps', { ...base, valued: { 0: 'a', 1: '' } })).toEqual([
      ['valued["0"]', 'map.keys.int32.gt'],
      ['valued["1"]', 'map.values.string.min_len'],
    ]);
  });

  test('no_sparse (plain objects only: the wire cannot carry an unset map value)', () => {
    expect(plainViolations('Maps', { ...base, sparse: { k: null } })).toEqual([['sparse["k"]', 'map.no_sparse']]);
  });
});

describe('bytes', () => {
  const b = (s: string) => Buffer.from(s);
  runCases(
    'Bytes',
    { len: b('abc'), min_max: b('a'), prefix: b('abc'), const_: b('xyz'), ipv4: Uint8Array.of(10, 0, 0, 1), in: b('a'), pattern: b('abc'), suffix: b('xyz'), contains: b('mmm') },
    [
      ['len', b('ab'), 'bytes.len'],
      ['min_max', b(''), 'bytes.min_len'],
      ['min_max', b('abc'), 'bytes.max_len'],
      ['prefix', b('xab'), 'bytes.prefix'],
      ['const_', b('xy'), 'bytes.const'],
      ['ipv4', Uint8Array.of(1, 2, 3), 'bytes.ipv4'],
      ['in', b('c'), 'bytes.in'],
      ['pattern', b('ABC'), 'bytes.pattern'],
      ['suffix', b('xy'), 'bytes.suffix'],
      ['contains', b('abc'), 'bytes.contains'],
    ],
  );
});

describe('duration and timestamp', () => {
  const now = Math.floor(Date.now() / 1000);
  runCases(
    'Times',
    {
      required: { seconds: 1 }, positive: { nanos: 1 }, bounded: { seconds: 59, nanos: 999_999_999 }, const_: { seconds: 5 }, in: { seconds: 2 },
      not_in: { seconds: 1 }, lte: { seconds: 1, nanos: 500_000_000 }, ts_required: { seconds: now }, ts_after: { seconds: 1_000_000_001 },
      ts_past: { seconds: now - 60 }, ts_future: { seconds: now + 60 }, ts_within: { seconds: now + 60 },
    },
    [
      ['positive', {}, 'duration.gt'],
      ['positive', { seconds: -1 }, 'duration.gt'],
      ['bounded', { nanos: 999_999 }, 'duration.gte'],
      ['bounded', { seconds: 60 }, 'duration.lt'],
      ['const_', { seconds: 5, nanos: 1 }, 'duration.const'],
      ['in', { seconds: 3 }, 'duration.in'],
      ['not_in', {}, 'duration.not_in'],
      ['lte', { seconds: 1, nanos: 500_000_001 }, 'duration.lte'],
      ['ts_after', { seconds: 1_000_000_000 }, 'timestamp.gt'],
      ['ts_past', { seconds: now + 3600 }, 'timestamp.lt_now'],
      ['ts_future', { seconds: now - 3600 }, 'timestamp.gt_now'],
      ['ts_within', { seconds: now + 7200 }, 'timestamp.within'],
    ],
  );

  test('required and unset', () => {
    expect(violations('Times', {})).toEqual([
      ['required', 'duration.required'],
      ['ts_required', 'timestamp.required'],
    ]);
  });
});

describe('Any', () => {
  const leaf = (name: string) => ({ '@type': url('Leaf'), name });
  const base = { required: leaf('x') };

  test('required, in, not_in', () => {
    expect(violations('Anys', base)).toEqual([]);
    expect(violations('Anys', {})).toEqual([['required', 'any.required']]);
    expect(violations('Anys', { ...base, in: { '@type': 'type.googleapis.com/google.protobuf.Duration', seconds: 1 } })).toEqual([['in', 'any.in']]);
    expect(violations('Anys', { ...base, not_in: leaf('y') })).toEqual([['not_in', 'any.not_in']]);
  });

  test('payloads are decoded with the type their URL names and validated', () => {
    expect(violations('Anys', { ...base, payload: leaf(''), many: [leaf('a'), leaf('')] })).toEqual([
      ['payload.name', 'string.min_len'],
      ['many[1].name', 'string.min_len'],
    ]);
    expect(plainViolations('Anys', { required: leaf(''), payload: { type_url: url('Leaf'), value: encode('Leaf', { name: '' }) } })).toEqual([
      ['required.name', 'string.min_len'],
      ['payload.name', 'string.min_len'],
    ]);
  });

  test('an unknown type URL is skipped; an undecodable payload is reported', () => {
    expect(plainViolations('Anys', { ...base, payload: { type_url: 'type.googleapis.com/not.Known', value: Uint8Array.of(1, 2, 3) } })).toEqual([]);
    expect(plainViolations('Anys', { ...base, payload: { type_url: url('Leaf'), value: Uint8Array.of(0x0a, 0x05, 0x61) } })).toEqual([['payload', 'any.payload']]);
  });
});

describe('wrappers: rules on google.protobuf.*Value apply to .value when the wrapper is set', () => {
  runCases('Wrappers', { required: {} }, [
    ['u32', { value: 0 }, 'uint32.gte'],
    ['i64', { value: 0 }, 'int64.lt'],
    ['dbl', { value: 0 }, 'double.gt'],
    ['dbl', { value: 1.5 }, 'double.lte'],
    ['str', { value: 'a' }, 'string.min_len'],
    ['flag', { value: false }, 'bool.const'],
    ['raw', { value: Buffer.from('ab') }, 'bytes.max_len'],
    ['flt', { value: 1 }, 'float.lt'],
    ['u64', { value: 11 }, 'uint64.lte'],
    ['i32', { value: -1 }, 'int32.gte'],
  ]);

  test('message.required on a wrapper', () => {
    expect(violations('Wrappers', {})).toEqual([['required', 'message.required']]);
  });
});

test('every rule in testdata/rules.proto is understood', () => {
  expect(unsupportedRules(root)).toEqual([]);
});
