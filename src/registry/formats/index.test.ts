import { describe, expect, test } from 'bun:test';
import type { RawEntry } from '../source.ts';
import { FORMAT_NAMES, FORMATS, isFormatName, type FormatName } from './index.ts';
import { plainFormat } from './plain.ts';

const entry = (key: string, value: string, modRevision = 7): RawEntry => ({ key, value, modRevision, lease: '0' });

interface Case {
  readonly prefix: string;
  /** A valid registration of service `svc`. */
  readonly valid: { readonly key: string; readonly value: string };
  /** Entries that must be rejected: a garbage value on a good key, a garbage instance segment. */
  readonly garbage: readonly { readonly key: string; readonly value: string }[];
}

const CASES: Record<FormatName, Case> = {
  switchyard: {
    prefix: '/services/',
    valid: { key: '/services/svc/10.0.0.1:80', value: '{"weight":2,"zone":"a","tags":{"t":"1"}}' },
    garbage: [{ key: '/services/svc/10.0.0.1:80', value: '{"weight":' }, { key: '/services/svc/garbage', value: '' }],
  },
  'etcd-naming': {
    prefix: 'foo/bar/',
    valid: { key: 'foo/bar/svc/e1', value: '{"Op":0,"Addr":"10.0.0.1:80","Metadata":{"weight":2,"zone":"a"}}' },
    garbage: [{ key: 'foo/bar/svc/e1', value: '{"Op":0,"Addr":' }, { key: 'foo/bar/svc/e1', value: '{"Addr":"garbage"}' }],
  },
  kratos: {
    prefix: '/microservices/',
    valid: { key: '/microservices/svc/id-1', value: '{"name":"svc","metadata":{"weight":"2","zone":"a","x":"y"},"endpoints":["grpc://10.0.0.1:80"]}' },
    garbage: [{ key: '/microservices/svc/id-1', value: '{"endpoints":' }, { key: '/microservices/svc/id-1', value: '{"endpoints":["garbage"]}' }],
  },
  'go-zero': {
    prefix: '',
    valid: { key: 'svc/7587869520419061251', value: '10.0.0.1:80' },
    garbage: [{ key: 'svc/7587869520419061251', value: 'garbage' }],
  },
  kitex: {
    prefix: 'kitex/registry-etcd/',
    valid: { key: 'kitex/registry-etcd/svc/10.0.0.1:80', value: '{"network":"tcp","address":"10.0.0.1:80","weight":2,"tags":{"idc":"a"}}' },
    garbage: [{ key: 'kitex/registry-etcd/svc/10.0.0.1:80', value: '{"network":' }, { key: 'kitex/registry-etcd/svc/garbage', value: '{}' }],
  },
  rpcx: {
    prefix: '/rpcx_test/',
    valid: { key: '/rpcx_test/svc/tcp@10.0.0.1:80', value: 'group=a&weight=2&calls=3' },
    garbage: [{ key: '/rpcx_test/svc/tcp@10.0.0.1:80', value: 'weight=%%%' }, { key: '/rpcx_test/svc/garbage', value: '' }],
  },
};

/** Values no format should choke on. */
const JUNK = ['', ' ', 'null', 'true', '0', '[]', '{}', '{"__proto__":{"weight":5}}', '\u0000\uffff', '%', '&&&', '=', 'é'.repeat(5000), '{"a":'.repeat(50)];

describe('FORMATS', () => {
  test('names', () => {
    expect(Object.keys(FORMATS).sort()).toEqual([...FORMAT_NAMES].sort());
    expect(FORMATS.switchyard).toBe(plainFormat);
    for (const name of FORMAT_NAMES) expect(isFormatName(name)).toBe(true);
    for (const name of ['', 'plain', 'Kratos', 'toString', '__proto__']) expect(isFormatName(name)).toBe(false);
  });
});

describe.each(FORMAT_NAMES.map((name) => [name, FORMATS[name], CASES[name]] as const))('%s', (_, format, c) => {
  test('decodes its valid example to an instance of service "svc"', () => {
    const d = format(c.prefix, entry(c.valid.key, c.valid.value));
    expect(d.kind === 'instance' && [d.instance.key, d.instance.service, d.instance.host, d.instance.port, d.instance.revision]).toEqual([
      c.valid.key, 'svc', '10.0.0.1', 80, 7,
    ]);
  });
  test('identical re-puts differ only in revision', () => {
    const a = format(c.prefix, entry(c.valid.key, c.valid.value, 7));
    const b = format(c.prefix, entry(c.valid.key, c.valid.value, 1234));
    expect(a.kind === 'instance' && b.kind === 'instance').toBe(true);
    if (a.kind !== 'instance' || b.kind !== 'instance') return;
    expect(b.instance.revision).toBe(1234);
    expect({ ...b.instance, revision: 7 }).toEqual(a.instance);
  });
  test('rejects garbage with a reason', () => {
    for (const g of c.garbage) {
      const d = format(c.prefix, entry(g.key, g.value));
      expect(d.kind).toBe('reject');
      expect(d.kind === 'reject' && d.reason.length).toBeGreaterThan(10);
    }
  });
  test('ignores placeholder keys', () => {
    for (const key of [c.prefix, `${c.prefix}svc`, `${c.prefix}svc/`]) {
      for (const value of ['', 'svc', 'rpcx_path', '{}']) expect(format(c.prefix, entry(key, value))).toEqual({ kind: 'ignore' });
    }
  });
  test('never throws on junk values or keys', () => {
    const keys = [c.valid.key, `${c.prefix}svc/%`, `${c.prefix}svc/[`, `${c.prefix}svc/]:`, `${c.prefix}svc/@`, `${c.prefix}svc/tcp@`, `${c.prefix}/x/y`, `${c.prefix}svc//`, 'unrelated'];
    for (const key of keys) {
      for (const value of JUNK) {
        const d = format(c.prefix, entry(key, value));
        expect(['instance', 'ignore', 'reject']).toContain(d.kind);
        if (d.kind === 'reject') expect(d.reason).not.toBe('');
      }
    }
  });
});
