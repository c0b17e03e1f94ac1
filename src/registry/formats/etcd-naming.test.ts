import { describe, expect, test } from 'bun:test';
import { instanceDefaults, type Instance } from '../../catalog/model.ts';
import type { RawEntry } from '../source.ts';
import { etcdNamingFormat } from './etcd-naming.ts';

const PREFIX = 'foo/bar/';
const entry = (key: string, value: string, modRevision = 7): RawEntry => ({ key, value, modRevision, lease: '0' });
const decode = (key: string, value: string) => etcdNamingFormat(PREFIX, entry(key, value));
const instance = (key: string, host: string, port: number, fields: Partial<Instance> = {}) => ({
  kind: 'instance' as const,
  instance: { ...instanceDefaults(key, 'my-service', host, port, 7), ...fields },
});

describe('etcd naming format: examples from etcd-notes §1b', () => {
  test('endpoints manager value for target foo/bar/my-service', () => {
    const key = 'foo/bar/my-service/10.0.0.1:50051';
    expect(decode(key, '{"Op":0,"Addr":"10.0.0.1:50051","Metadata":null}')).toEqual(instance(key, '10.0.0.1', 50051));
  });
  test('IPv6 Addr in gRPC target form', () => {
    const key = 'foo/bar/my-service/[::1]:50051';
    expect(decode(key, '{"Op":0,"Addr":"[::1]:50051","Metadata":null}')).toEqual(instance(key, '::1', 50051));
  });
  test('the key after the target is opaque: Addr is the address', () => {
    const key = 'foo/bar/my-service/e1';
    expect(decode(key, '{"Op":0,"Addr":"10.0.0.9:8080","Metadata":null}')).toEqual(instance(key, '10.0.0.9', 8080));
  });
  test('AddEndpoint(..., "foo/bar/my-service/e1", {Addr: "1.2.3.4"}) has no port and is rejected', () => {
    const d = decode('foo/bar/my-service/e1', '{"Op":0,"Addr":"1.2.3.4","Metadata":null}');
    expect(d).toEqual({ kind: 'reject', reason: 'Addr: address "1.2.3.4": expected host:port' });
  });
  test('etcdctl form without Op, Metadata a string', () => {
    const key = 'foo/bar/my-service/1.2.3.4';
    expect(decode(key, '{"Addr":"1.2.3.4","Metadata":"..."}')).toEqual({ kind: 'reject', reason: 'Addr: address "1.2.3.4": expected host:port' });
    expect(decode(key, '{"Addr":"1.2.3.4:80","Metadata":"..."}')).toEqual(instance(key, '1.2.3.4', 80));
  });
  test('Op 1 (Delete) registers nothing', () => {
    expect(decode('foo/bar/my-service/10.0.0.1:50051', '{"Op":1,"Addr":"10.0.0.1:50051"}')).toEqual({ kind: 'ignore' });
  });
  test('placeholders and keys outside the prefix are ignored', () => {
    expect(decode('foo/bar/my-service', '')).toEqual({ kind: 'ignore' });
    expect(decode('foo/bar/my-service/', '')).toEqual({ kind: 'ignore' });
    expect(decode('foo/other/my-service/x', '{"Addr":"1.2.3.4:80"}')).toEqual({ kind: 'ignore' });
  });
});

describe('etcd naming format: Metadata', () => {
  const key = 'foo/bar/my-service/10.0.0.1:50051';
  const withMetadata = (metadata: unknown) => decode(key, JSON.stringify({ Op: 0, Addr: '10.0.0.1:50051', Metadata: metadata }));

  test('weight, zone, region and version are read from an object', () => {
    expect(withMetadata({ weight: 5, zone: 'az1', region: 'eu', version: 'v2', other: [1] })).toEqual(
      instance(key, '10.0.0.1', 50051, { weight: 5, locality: { region: 'eu', zone: 'az1', subZone: '' }, version: 'v2' }),
    );
  });
  test('fields of another type are skipped, not rejected', () => {
    expect(withMetadata({ weight: '5', zone: 1, region: null, version: ['v2'] })).toEqual(instance(key, '10.0.0.1', 50051));
    expect(withMetadata({ weight: 0 })).toEqual(instance(key, '10.0.0.1', 50051));
    expect(withMetadata({ weight: 2.5 })).toEqual(instance(key, '10.0.0.1', 50051));
  });
  test('Metadata that is not an object is ignored', () => {
    for (const m of ['x', 3, [1, 2], true]) expect(withMetadata(m)).toEqual(instance(key, '10.0.0.1', 50051));
  });
  test('inherited property names are not metadata', () => {
    expect(decode(key, '{"Addr":"10.0.0.1:50051","Metadata":{"__proto__":{"weight":9}}}')).toEqual(instance(key, '10.0.0.1', 50051));
  });
});

describe('etcd naming format: malformed values', () => {
  const key = 'foo/bar/my-service/x';
  test.each([
    ['', 'value is empty; expected a JSON object'],
    ['10.0.0.1:80', 'value is not valid JSON'],
    ['{"Addr":', 'value is not valid JSON'],
    ['[{"Addr":"10.0.0.1:80"}]', 'value must be a JSON object, got [{"Addr":"10.0.0.1:80"}]'],
    ['{"Op":2,"Addr":"10.0.0.1:80"}', 'Op: expected 0 (Add) or 1 (Delete), got 2'],
    ['{"Op":"0","Addr":"10.0.0.1:80"}', 'Op: expected 0 (Add) or 1 (Delete), got "0"'],
    ['{"Metadata":null}', 'Addr: expected an "ip:port" string, got nothing'],
    ['{"Addr":42}', 'Addr: expected an "ip:port" string, got 42'],
    ['{"Addr":"my-host:80"}', 'Addr: address "my-host:80": host "my-host" is not an IP address'],
    ['{"Addr":"::1:80"}', 'Addr: address "::1:80": write IPv6 addresses in brackets'],
    ['{"Addr":"10.0.0.1:0"}', 'Addr: address "10.0.0.1:0": port "0" is not a number from 1 to 65535'],
  ])('%s → %s', (value, reason) => {
    const d = decode(key, value);
    expect(d.kind).toBe('reject');
    expect(d.kind === 'reject' && d.reason).toContain(reason);
  });
  test('a service name that is not a Switchyard name', () => {
    const d = decode('foo/bar/My_Service/x', '{"Addr":"10.0.0.1:80"}');
    expect(d.kind === 'reject' && d.reason).toContain('service name "My_Service" may only contain lowercase letters');
  });
});
