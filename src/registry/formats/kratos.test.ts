import { describe, expect, test } from 'bun:test';
import { instanceDefaults, type Instance } from '../../catalog/model.ts';
import type { RawEntry } from '../source.ts';
import { KRATOS_DEFAULT_WEIGHT, kratosFormat } from './kratos.ts';

const PREFIX = '/microservices/';
const KEY = '/microservices/helloworld/2f9d3c8e-...';
const entry = (key: string, value: string, modRevision = 7): RawEntry => ({ key, value, modRevision, lease: '0' });
const decode = (value: string, key = KEY) => kratosFormat(PREFIX, entry(key, value));
const instance = (host: string, port: number, fields: Partial<Instance> = {}, key = KEY) => ({
  kind: 'instance' as const,
  instance: { ...instanceDefaults(key, 'helloworld', host, port, 7), weight: KRATOS_DEFAULT_WEIGHT, ...fields },
});
/** The ServiceInstance of etcd-notes §1d with some fields replaced. */
const si = (over: Record<string, unknown> = {}) =>
  JSON.stringify({
    id: '2f9d3c8e-...', name: 'helloworld', version: 'v1.0.0', metadata: { weight: '10', zone: 'az1' },
    endpoints: ['http://10.0.0.5:8000', 'grpc://10.0.0.5:9000'], ...over,
  });

describe('kratos format: examples from etcd-notes §1d', () => {
  test('the ServiceInstance, verbatim', () => {
    const value =
      '{"id":"2f9d3c8e-...","name":"helloworld","version":"v1.0.0","metadata":{"weight":"10","zone":"az1"},"endpoints":["http://10.0.0.5:8000","grpc://10.0.0.5:9000"]}';
    expect(decode(value)).toEqual(
      instance('10.0.0.5', 9000, { weight: 10, version: 'v1.0.0', locality: { region: '', zone: 'az1', subZone: '' } }),
    );
  });
  test('IPv6 endpoint grpc://[::1]:9000', () => {
    const d = decode(si({ endpoints: ['http://[::1]:8000', 'grpc://[::1]:9000'] }));
    expect(d.kind === 'instance' && [d.instance.host, d.instance.port]).toEqual(['::1', 9000]);
  });
  test('legacy ?isSecure=false and other query parameters are tolerated', () => {
    const d = decode(si({ endpoints: ['grpc://10.0.0.5:9000?isSecure=false'] }));
    expect(d.kind === 'instance' && d.instance.port).toBe(9000);
    const e = decode(si({ endpoints: ['grpc://10.0.0.5:9000/?foo=bar#x'] }));
    expect(e.kind === 'instance' && e.instance.port).toBe(9000);
  });
  test('the first plaintext grpc endpoint wins; schemes are case-insensitive', () => {
    const d = decode(si({ endpoints: ['grpcs://10.0.0.5:9443', 'GRPC://10.0.0.5:9000', 'grpc://10.0.0.6:9000'] }));
    expect(d.kind === 'instance' && [d.instance.host, d.instance.port]).toEqual(['10.0.0.5', 9000]);
  });
  test('without metadata weight an instance gets kratos’ default weight 100', () => {
    expect(decode(si({ metadata: null, version: '' }))).toEqual(instance('10.0.0.5', 9000));
    expect(decode(si({ metadata: {}, version: undefined }))).toEqual(instance('10.0.0.5', 9000));
  });
  test('region from metadata; other metadata entries become tags', () => {
    const d = decode(si({ metadata: { weight: '3', zone: 'az1', region: 'eu', color: 'blue', kind: 'grpc' } }));
    expect(d).toEqual(
      instance('10.0.0.5', 9000, {
        weight: 3, version: 'v1.0.0', locality: { region: 'eu', zone: 'az1', subZone: '' }, tags: { color: 'blue', kind: 'grpc' },
      }),
    );
  });
  test('a missing name is fine: the key names the service', () => {
    expect(decode(si({ name: undefined })).kind).toBe('instance');
  });
  test('placeholders are ignored', () => {
    expect(decode('', '/microservices/helloworld')).toEqual({ kind: 'ignore' });
    expect(decode('', '/microservices/helloworld/')).toEqual({ kind: 'ignore' });
    expect(decode(si(), '/microservices')).toEqual({ kind: 'ignore' });
  });
});

describe('kratos format: rejected', () => {
  test.each([
    ['TLS endpoint', si({ endpoints: ['http://10.0.0.5:8000', 'grpcs://10.0.0.5:9443'] }),
      'endpoint "grpcs://10.0.0.5:9443" uses TLS; Switchyard serves plaintext clusters only'],
    ['legacy TLS flag', si({ endpoints: ['grpc://10.0.0.5:9000?isSecure=true'] }), 'endpoint "grpc://10.0.0.5:9000?isSecure=true" uses TLS'],
    ['HTTP only', si({ endpoints: ['http://10.0.0.5:8000'] }), 'no grpc:// endpoint; found "http://10.0.0.5:8000"'],
    ['no endpoints', si({ endpoints: [] }), 'no grpc:// endpoint; found no endpoints'],
    ['endpoints missing', si({ endpoints: undefined }), 'endpoints: expected an array of URLs, got nothing'],
    ['endpoints not an array', si({ endpoints: 'grpc://10.0.0.5:9000' }), 'endpoints: expected an array of URLs, got "grpc://10.0.0.5:9000"'],
    ['endpoint not a string', si({ endpoints: ['grpc://10.0.0.5:9000', 7] }), 'endpoints[1]: expected a URL string, got 7'],
    ['hostname endpoint', si({ endpoints: ['grpc://helloworld:9000'] }), 'endpoint "grpc://helloworld:9000": address "helloworld:9000": host "helloworld" is not an IP address'],
    ['endpoint without port', si({ endpoints: ['grpc://10.0.0.5'] }), 'endpoint "grpc://10.0.0.5": address "10.0.0.5": expected host:port'],
    ['name of another service', si({ name: 'helloworld-admin' }), 'name: "helloworld-admin" does not match the service "helloworld" in the key'],
    ['name not a string', si({ name: 5 }), 'name: expected a string, got 5'],
    ['version not a string', si({ version: 1 }), 'version: expected a string, got 1'],
    ['weight zero', si({ metadata: { weight: '0' } }), 'metadata.weight: expected an integer from 1 to 1000000, got "0"'],
    ['weight not a number', si({ metadata: { weight: 'heavy' } }), 'metadata.weight: expected an integer from 1 to 1000000, got "heavy"'],
    ['weight signed', si({ metadata: { weight: '-5' } }), 'got "-5"'],
    ['weight as a JSON number', si({ metadata: { weight: 10 } }), 'metadata.weight: expected a string, got 10'],
    ['metadata not an object', si({ metadata: ['a'] }), 'metadata: expected an object of string values, got ["a"]'],
    ['not JSON', 'grpc://10.0.0.5:9000', 'value is not valid JSON'],
    ['empty', '', 'value is empty; expected a JSON object'],
  ])('%s', (_, value, reason) => {
    const d = decode(value);
    expect(d.kind).toBe('reject');
    expect(d.kind === 'reject' && d.reason).toContain(reason);
  });
});
