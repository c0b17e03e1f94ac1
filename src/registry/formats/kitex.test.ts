import { describe, expect, test } from 'bun:test';
import { instanceDefaults, type Instance } from '../../catalog/model.ts';
import type { RawEntry } from '../source.ts';
import { KITEX_DEFAULT_WEIGHT, kitexFormat } from './kitex.ts';

const PREFIX = 'kitex/registry-etcd/';
const entry = (key: string, value: string, modRevision = 7): RawEntry => ({ key, value, modRevision, lease: '0' });
const decode = (address: string, value: string, service = 'echo') => kitexFormat(PREFIX, entry(`${PREFIX}${service}/${address}`, value));
const instance = (address: string, host: string, port: number, fields: Partial<Instance> = {}) => ({
  kind: 'instance' as const,
  instance: { ...instanceDefaults(`${PREFIX}echo/${address}`, 'echo', host, port, 7), ...fields },
});
const info = (over: Record<string, unknown> = {}) =>
  JSON.stringify({ network: 'tcp', address: '10.0.0.5:8888', weight: 10, tags: { idc: 'hz1' }, ...over });

describe('kitex format: examples from etcd-notes §1f', () => {
  test('the registry value, verbatim', () => {
    expect(decode('10.0.0.5:8888', '{"network":"tcp","address":"10.0.0.5:8888","weight":10,"tags":{"idc":"hz1"}}')).toEqual(
      instance('10.0.0.5:8888', '10.0.0.5', 8888, { weight: 10, tags: { idc: 'hz1' } }),
    );
  });
  test('IPv6 without brackets (fe80::1:8888) is split on the last colon', () => {
    expect(decode('fe80::1:8888', info({ address: 'fe80::1:8888' }))).toEqual(
      instance('fe80::1:8888', 'fe80::1', 8888, { weight: 10, tags: { idc: 'hz1' } }),
    );
  });
  test('bracketed IPv6 is accepted as well, also against the unbracketed spelling', () => {
    const d = decode('[2001:db8::5]:8888', info({ address: '2001:db8::5:8888' }));
    expect(d.kind === 'instance' && [d.instance.host, d.instance.port]).toEqual(['2001:db8::5', 8888]);
  });
  test('weight 0, negative or absent is Kitex’ default weight 10', () => {
    for (const weight of [0, -3, null, undefined]) {
      expect(decode('10.0.0.5:8888', info({ weight, tags: null }))).toEqual(instance('10.0.0.5:8888', '10.0.0.5', 8888, { weight: KITEX_DEFAULT_WEIGHT }));
    }
  });
  test('network and address may be left out', () => {
    expect(decode('10.0.0.5:8888', '{"weight":3}')).toEqual(instance('10.0.0.5:8888', '10.0.0.5', 8888, { weight: 3 }));
  });
  test('placeholders are ignored', () => {
    expect(kitexFormat(PREFIX, entry(`${PREFIX}echo`, ''))).toEqual({ kind: 'ignore' });
    expect(kitexFormat(PREFIX, entry(`${PREFIX}echo/`, ''))).toEqual({ kind: 'ignore' });
    expect(kitexFormat(PREFIX, entry('hertz/registry-etcd/echo/10.0.0.5:8888', info()))).toEqual({ kind: 'ignore' });
  });
});

describe('kitex format: rejected', () => {
  test.each([
    ['not-an-address', info(), 'address "not-an-address": expected host:port'],
    ['echo-host:8888', info(), 'address "echo-host:8888": host "echo-host" is not an IP address'],
    ['fe80::zz:8888', info(), 'address "fe80::zz:8888": "fe80::zz" is not an IPv6 address'],
    ['fe80::1:0', info({ address: undefined }), 'address "fe80::1:0": port "0" is not a number from 1 to 65535'],
    ['10.0.0.5:8888', info({ network: 'unix' }), 'network: "unix" cannot be served; only tcp instances can be reached'],
    ['10.0.0.5:8888', info({ network: 6 }), 'network: expected a string, got 6'],
    ['10.0.0.5:8888', info({ address: '10.0.0.6:8888' }), 'address: "10.0.0.6:8888" differs from the key\'s address "10.0.0.5:8888"'],
    ['10.0.0.5:8888', info({ address: 'pod-1:8888' }), 'address: address "pod-1:8888": host "pod-1" is not an IP address'],
    ['10.0.0.5:8888', info({ weight: 1.5 }), 'weight: expected an integer from 1 to 1000000, got 1.5'],
    ['10.0.0.5:8888', info({ weight: '10' }), 'weight: expected an integer from 1 to 1000000, got "10"'],
    ['10.0.0.5:8888', info({ weight: 2_000_000 }), 'got 2000000'],
    ['10.0.0.5:8888', info({ tags: { idc: 1 } }), 'tags.idc: expected a string, got 1'],
    ['10.0.0.5:8888', info({ tags: ['hz1'] }), 'tags: expected an object of string values, got ["hz1"]'],
    ['10.0.0.5:8888', '', 'value is empty; expected a JSON object'],
    ['10.0.0.5:8888', 'tcp@10.0.0.5:8888', 'value is not valid JSON'],
  ])('%s %s → %s', (address, value, reason) => {
    const d = decode(address, value);
    expect(d.kind).toBe('reject');
    expect(d.kind === 'reject' && d.reason).toContain(reason);
  });
  test('extra path segments and bad service names', () => {
    const d = kitexFormat(PREFIX, entry(`${PREFIX}echo/10.0.0.5:8888/x`, info()));
    expect(d.kind === 'reject' && d.reason).toContain('expected kitex/registry-etcd/<service>/<ip:port>, found extra path segments after "echo/"');
    const e = decode('10.0.0.5:8888', info(), 'Echo');
    expect(e.kind === 'reject' && e.reason).toContain('service name "Echo" may only contain lowercase letters');
  });
});
