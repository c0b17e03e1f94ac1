import { describe, expect, test } from 'bun:test';
import { instanceDefaults, type Instance } from '../../catalog/model.ts';
import type { RawEntry } from '../source.ts';
import { rpcxFormat } from './rpcx.ts';

const PREFIX = '/rpcx_test/';
const entry = (key: string, value: string, modRevision = 7): RawEntry => ({ key, value, modRevision, lease: '0' });
const decode = (key: string, value: string, modRevision = 7) => rpcxFormat(PREFIX, entry(key, value, modRevision));
const instance = (key: string, service: string, host: string, port: number, fields: Partial<Instance> = {}) => ({
  kind: 'instance' as const,
  instance: { ...instanceDefaults(key, service, host, port, 7), ...fields },
});

describe('rpcx format: examples from etcd-notes §1f', () => {
  test('the example key and value (service Arith is not a lowercase Switchyard name)', () => {
    const d = decode('/rpcx_test/Arith/tcp@10.0.0.5:8972', 'group=prod&state=inactive&weight=10');
    expect(d.kind === 'reject' && d.reason).toContain('service name "Arith" may only contain lowercase letters');
  });
  test('the same registration under a lowercase service name', () => {
    const key = '/rpcx_test/arith/tcp@10.0.0.5:8972';
    expect(decode(key, 'group=prod&state=inactive&weight=10')).toEqual(
      instance(key, 'arith', '10.0.0.5', 8972, { weight: 10, draining: true, tags: { group: 'prod' } }),
    );
  });
  test('placeholders: /rpcx_test = rpcx_path and /rpcx_test/Arith = Arith', () => {
    expect(decode('/rpcx_test', 'rpcx_path')).toEqual({ kind: 'ignore' });
    expect(decode('/rpcx_test/Arith', 'Arith')).toEqual({ kind: 'ignore' });
    expect(decode('/rpcx_test/arith/', '')).toEqual({ kind: 'ignore' });
  });
  test('IPv6 as Go writes it: tcp@[::1]:8972', () => {
    const key = '/rpcx_test/arith/tcp@[::1]:8972';
    expect(decode(key, '')).toEqual(instance(key, 'arith', '::1', 8972));
  });
  test('an active server with no metadata has the defaults', () => {
    const key = '/rpcx_test/arith/tcp@10.0.0.5:8972';
    expect(decode(key, '')).toEqual(instance(key, 'arith', '10.0.0.5', 8972));
    expect(decode(key, 'state=active&weight=&group=')).toEqual(instance(key, 'arith', '10.0.0.5', 8972));
  });
  test('periodic re-puts with churning counters give the same instance', () => {
    const key = '/rpcx_test/arith/tcp@10.0.0.5:8972';
    const a = decode(key, 'group=prod&weight=10&calls=10&connections=2', 7);
    const b = decode(key, 'connections=5&weight=10&calls=99&group=prod', 9);
    expect(a.kind === 'instance' && b.kind === 'instance' && { ...b.instance, revision: 7 }).toEqual(a.kind === 'instance' && a.instance);
  });
  test('escapes are decoded; the first of repeated parameters wins', () => {
    const key = '/rpcx_test/arith/tcp@10.0.0.5:8972';
    const d = decode(key, 'group=blue+green%2Fx&group=other&weight=2');
    expect(d).toEqual(instance(key, 'arith', '10.0.0.5', 8972, { weight: 2, tags: { group: 'blue green/x' } }));
  });
});

describe('rpcx format: rejected', () => {
  test.each([
    ['/rpcx_test/arith/10.0.0.5:8972', '', 'instance "10.0.0.5:8972": expected <network>@<ip:port>, e.g. tcp@10.0.0.5:8972'],
    ['/rpcx_test/arith/quic@10.0.0.5:8972', '', 'instance "quic@10.0.0.5:8972": network "quic" cannot be served; only tcp@<ip:port> instances can be reached'],
    ['/rpcx_test/arith/unix@/tmp/rpcx.sock', '', 'expected /rpcx_test/<service>/tcp@<ip:port>, found extra path segments after "arith/"'],
    ['/rpcx_test/arith/tcp@rpcx-host:8972', '', 'address "rpcx-host:8972": host "rpcx-host" is not an IP address'],
    ['/rpcx_test/arith/tcp@::1:8972', '', 'address "::1:8972": write IPv6 addresses in brackets'],
    ['/rpcx_test/arith/tcp@10.0.0.5:0', '', 'port "0" is not a number from 1 to 65535'],
    ['/rpcx_test/arith/tcp@10.0.0.5:8972', 'weight=0', 'weight: expected an integer from 1 to 1000000, got "0"'],
    ['/rpcx_test/arith/tcp@10.0.0.5:8972', 'weight=ten', 'weight: expected an integer from 1 to 1000000, got "ten"'],
    ['/rpcx_test/arith/tcp@10.0.0.5:8972', 'weight=-1', 'got "-1"'],
    ['/rpcx_test/arith/tcp@10.0.0.5:8972', 'group=%zz', 'value is not a URL query (k=v&...): bad escape in "group=%zz"'],
    ['/rpcx_test/arith/tcp@10.0.0.5:8972', 'group=a;weight=2', `value is not a URL query (k=v&...): ';' in "group=a;weight=2"`],
  ])('%s %s → %s', (key, value, reason) => {
    const d = decode(key, value);
    expect(d.kind).toBe('reject');
    expect(d.kind === 'reject' && d.reason).toContain(reason);
  });
});
