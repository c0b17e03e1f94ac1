import { describe, expect, test } from 'bun:test';
import { instanceDefaults } from '../../catalog/model.ts';
import type { RawEntry } from '../source.ts';
import { goZeroFormat } from './go-zero.ts';

const entry = (key: string, value: string, modRevision = 7): RawEntry => ({ key, value, modRevision, lease: '7587869520419061251' });
const instance = (key: string, service: string, host: string, port: number) => ({
  kind: 'instance' as const,
  instance: instanceDefaults(key, service, host, port, 7),
});

describe('go-zero format: examples from etcd-notes §1c', () => {
  test('Etcd.Key user.rpc with the default empty prefix', () => {
    const key = 'user.rpc/7587869520419061251';
    expect(goZeroFormat('', entry(key, '10.0.0.5:8080'))).toEqual(instance(key, 'user.rpc', '10.0.0.5', 8080));
  });
  test('a prefix above Etcd.Key, and an Etcd.ID instead of the lease id', () => {
    const key = '/zrpc/user.rpc/node-1';
    expect(goZeroFormat('/zrpc/', entry(key, '10.0.0.5:8080'))).toEqual(instance(key, 'user.rpc', '10.0.0.5', 8080));
  });
  test('bracketed IPv6, and surrounding whitespace', () => {
    const key = 'user.rpc/1';
    expect(goZeroFormat('', entry(key, '[::1]:8080'))).toEqual(instance(key, 'user.rpc', '::1', 8080));
    expect(goZeroFormat('', entry(key, ' [2001:db8::5]:8080\n'))).toEqual(instance(key, 'user.rpc', '2001:db8::5', 8080));
  });
  test('placeholders are ignored', () => {
    expect(goZeroFormat('', entry('user.rpc', '10.0.0.5:8080'))).toEqual({ kind: 'ignore' });
    expect(goZeroFormat('', entry('user.rpc/', '10.0.0.5:8080'))).toEqual({ kind: 'ignore' });
    expect(goZeroFormat('/zrpc/', entry('/other/user.rpc/1', '10.0.0.5:8080'))).toEqual({ kind: 'ignore' });
  });
});

describe('go-zero format: malformed values', () => {
  test.each([
    ['', 'value is empty; expected the instance address "ip:port"'],
    ['10.0.0.5', 'value: address "10.0.0.5": expected host:port'],
    [':8080', 'value: address ":8080": host "" is not an IP address'],
    ['localhost:8080', 'value: address "localhost:8080": host "localhost" is not an IP address'],
    ['::1:8080', 'value: address "::1:8080": write IPv6 addresses in brackets'],
    ['10.0.0.5:99999', 'value: address "10.0.0.5:99999": port "99999" is not a number from 1 to 65535'],
    ['{"addr":"10.0.0.5:8080"}', 'value: address "{"addr":"10.0.0.5:8080"}": '],
  ])('%s → %s', (value, reason) => {
    const d = goZeroFormat('', entry('user.rpc/1', value));
    expect(d.kind).toBe('reject');
    expect(d.kind === 'reject' && d.reason).toContain(reason);
  });
  test('a key with a leading "/" under the empty prefix has an empty service name', () => {
    const d = goZeroFormat('', entry('/user.rpc/1', '10.0.0.5:8080'));
    expect(d).toEqual({ kind: 'reject', reason: 'service name is empty' });
  });
  test('an upper-case Etcd.Key is not a Switchyard service name', () => {
    const d = goZeroFormat('', entry('User.rpc/1', '10.0.0.5:8080'));
    expect(d.kind === 'reject' && d.reason).toContain('service name "User.rpc" may only contain lowercase letters');
  });
});
