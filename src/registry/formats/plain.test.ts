import { describe, expect, test } from 'bun:test';
import type { RawEntry } from '../source.ts';
import { instanceDefaults } from '../../catalog/model.ts';
import { plainFormat } from './plain.ts';

const entry = (key: string, value = '', modRevision = 7): RawEntry => ({ key, value, modRevision, lease: '0' });
const decode = (key: string, value = '') => plainFormat('/services/', entry(key, value));
const instance = (service: string, host: string, port: number, weight = 1, key = `/services/${service}/${host.includes(':') ? `[${host}]` : host}:${port}`) => ({
  kind: 'instance' as const,
  instance: { ...instanceDefaults(key, service, host, port, 7), weight },
});

describe('plain format: keys', () => {
  test('IPv4 address in the key, empty value', () => {
    expect(decode('/services/user-service/10.0.0.7:50051')).toEqual(instance('user-service', '10.0.0.7', 50051));
  });
  test('bracketed IPv6 address', () => {
    expect(decode('/services/user-service/[::1]:50051')).toEqual(instance('user-service', '::1', 50051));
    expect(decode('/services/a/[2001:db8::5]:80')).toEqual(instance('a', '2001:db8::5', 80));
  });
  test('placeholder keys are ignored', () => {
    expect(decode('/services/user-service')).toEqual({ kind: 'ignore' });
    expect(decode('/services/user-service/')).toEqual({ kind: 'ignore' });
  });
  test.each([
    ['/services/x/not-an-address', 'expected host:port'],
    ['/services/x/10.0.0.1:0', 'port "0" is not a number from 1 to 65535'],
    ['/services/x/10.0.0.1:70000', 'port "70000" is not a number from 1 to 65535'],
    ['/services/x/10.0.0.1:', 'port "" is not a number'],
    ['/services/x/10.0.0.1:80a', 'port "80a"'],
    ['/services/x/myhost:80', 'host "myhost" is not an IP address'],
    ['/services/x/::1:80', 'write IPv6 addresses in brackets'],
    ['/services/x/[::1]80', 'expected [ipv6]:port'],
    ['/services/x/[10.0.0.1]:80', 'is not an IPv6 address'],
    ['/services/x/10.0.0.1:80/extra', 'extra path segments'],
    ['/services/Bad Name/127.0.0.1:1', 'may only contain lowercase letters'],
    ['/services/UserService/127.0.0.1:1', 'may only contain lowercase letters'],
    ['/services/-x/127.0.0.1:1', 'starting and ending with a letter or digit'],
    ['/services/a*b/127.0.0.1:1', 'may only contain'],
  ])('%s is rejected: %s', (key, reason) => {
    const d = decode(key);
    expect(d.kind).toBe('reject');
    expect(d.kind === 'reject' && d.reason).toContain(reason);
  });
  test('service names may use dots, dashes and underscores', () => {
    expect(decode('/services/user.rpc_v2-x/10.0.0.1:1').kind).toBe('instance');
  });
});

describe('plain format: values', () => {
  test('the address itself is accepted, also in another spelling of the same IPv6 address', () => {
    expect(decode('/services/a/10.0.0.1:80', '10.0.0.1:80')).toEqual(instance('a', '10.0.0.1', 80));
    expect(decode('/services/a/[::1]:80', '[::1]:80').kind).toBe('instance');
  });
  test('JSON with a weight', () => {
    expect(decode('/services/a/10.0.0.1:80', '{"weight": 5}')).toEqual(instance('a', '10.0.0.1', 80, 5));
  });
  test('JSON without weight, and unknown fields, default to weight 1', () => {
    expect(decode('/services/a/10.0.0.1:80', '{"color":"blue"}')).toEqual(instance('a', '10.0.0.1', 80, 1));
  });
  test('every field of the Switchyard value', () => {
    const value = JSON.stringify({
      weight: 3, region: 'eu', zone: 'eu-1a', sub_zone: 'rack4', priority: 1, version: 'v2',
      tags: { track: 'canary' }, draining: true, metadata: { anything: [1, 2] },
    });
    const d = decode('/services/a/10.0.0.1:80', value);
    expect(d).toEqual({
      kind: 'instance',
      instance: {
        ...instanceDefaults('/services/a/10.0.0.1:80', 'a', '10.0.0.1', 80, 7),
        weight: 3, locality: { region: 'eu', zone: 'eu-1a', subZone: 'rack4' }, priority: 1, version: 'v2',
        tags: { track: 'canary' }, draining: true,
      },
    });
  });
  test.each([
    ['10.0.0.2:80', 'value must be empty, the address "10.0.0.1:80" or a JSON object'],
    ['{"weight": 0}', 'weight: expected an integer from 1 to 1000000, got 0'],
    ['{"weight": 1.5}', 'got 1.5'],
    ['{"weight": "3"}', 'got "3"'],
    ['{"weight": 2000000}', 'got 2000000'],
    ['{"weight": ', 'value is not valid JSON'],
    ['[1]', 'value must be empty'],
    ['{"priority": -1}', 'priority: expected an integer from 0 to 128, got -1'],
    ['{"priority": 129}', 'priority: expected an integer from 0 to 128, got 129'],
    ['{"zone": 5}', 'zone: expected a string, got 5'],
    ['{"version": true}', 'version: expected a string, got true'],
    ['{"tags": {"a": 1}}', 'tags.a: expected a string, got 1'],
    ['{"tags": "x"}', 'tags: expected an object of string values'],
    ['{"draining": "yes"}', 'draining: expected true or false, got "yes"'],
  ])('value %s is rejected: %s', (value, reason) => {
    const d = decode('/services/a/10.0.0.1:80', value);
    expect(d.kind === 'reject' && d.reason).toContain(reason);
  });
  test('JSON that is not an object', () => {
    const d = decode('/services/a/10.0.0.1:80', '{}x');
    expect(d.kind).toBe('reject');
  });
});
