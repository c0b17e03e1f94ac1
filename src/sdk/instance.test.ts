import { describe, expect, test } from 'bun:test';
import { err, ok } from '../lib/result.ts';
import { plainFormat } from '../registry/formats/plain.ts';
import { checkInstance, encodeValue, normalizePrefix, type InstanceRegistration } from './instance.ts';

const base: InstanceRegistration = { service: 'greeter', host: '10.0.0.7', port: 50051 };
const check = (over: Partial<Record<keyof InstanceRegistration, unknown>>) =>
  checkInstance('/services/', { ...base, ...over } as InstanceRegistration);

describe('checkInstance', () => {
  test('the minimal registration: key, address, no fields', () => {
    expect(checkInstance('/services/', base)).toEqual(
      ok({ service: 'greeter', host: '10.0.0.7', port: 50051, address: '10.0.0.7:50051', key: '/services/greeter/10.0.0.7:50051', fields: {} }),
    );
  });

  test('IPv6 with or without brackets: bracketed in the key, bare in host', () => {
    for (const host of ['::1', '[::1]']) {
      expect(check({ host })).toEqual(
        ok({ service: 'greeter', host: '::1', port: 50051, address: '[::1]:50051', key: '/services/greeter/[::1]:50051', fields: {} }),
      );
    }
  });

  test('every field, in the value format’s names', () => {
    const r = check({ weight: 3, region: 'eu', zone: 'eu-1a', subZone: 'rack-2', priority: 1, version: 'v2', tags: { canary: 'yes' }, metadata: { build: 42 } });
    expect(r).toEqual(
      ok({
        service: 'greeter',
        host: '10.0.0.7',
        port: 50051,
        address: '10.0.0.7:50051',
        key: '/services/greeter/10.0.0.7:50051',
        fields: { weight: 3, region: 'eu', zone: 'eu-1a', sub_zone: 'rack-2', priority: 1, version: 'v2', tags: { canary: 'yes' }, metadata: { build: 42 } },
      }),
    );
  });

  test('each problem is named with what was given and what is expected', () => {
    expect(check({ service: 'Greeter' })).toEqual(
      err(`service name "Greeter" may only contain lowercase letters, digits, '.', '-' and '_', starting and ending with a letter or digit`),
    );
    expect(check({ host: 'greeter-1.internal' })).toEqual(
      err('host "greeter-1.internal" is not an IP address: register the IPv4 or IPv6 address clients dial, such as 10.0.0.7 or ::1 (host names are not resolved)'),
    );
    expect(check({ port: 0 })).toEqual(err('port must be an integer from 1 to 65535, got 0'));
    expect(check({ port: 65536 })).toEqual(err('port must be an integer from 1 to 65535, got 65536'));
    expect(check({ port: 80.5 })).toEqual(err('port must be an integer from 1 to 65535, got 80.5'));
    expect(check({ weight: 0 })).toEqual(err('weight must be an integer from 1 to 1000000, got 0'));
    expect(check({ weight: 1_000_001 })).toEqual(err('weight must be an integer from 1 to 1000000, got 1000001'));
    expect(check({ priority: 129 })).toEqual(err('priority must be an integer from 0 to 128, got 129'));
    expect(check({ priority: -1 })).toEqual(err('priority must be an integer from 0 to 128, got -1'));
    expect(check({ zone: 3 })).toEqual(err('zone must be a string, got 3'));
    expect(check({ tags: { a: 1 } })).toEqual(err('tags.a must be a string, got 1'));
    expect(check({ tags: ['a'] })).toEqual(err('tags must be an object of strings, got ["a"]'));
    expect(check({ metadata: { n: 1n } })).toEqual(err('metadata must be JSON-serializable: JSON.stringify cannot serialize BigInt.'));
  });

  test('every problem is reported, not only the first', () => {
    const r = check({ service: '', host: 'nope', port: -1 });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.errors.length).toBe(3);
  });
});

describe('encodeValue', () => {
  const instance = (over: Partial<InstanceRegistration> = {}) => {
    const r = checkInstance('/services/', { ...base, ...over });
    if (!r.ok) throw new Error(r.errors.join('; '));
    return r.value;
  };

  test('empty when every field is at its default; draining adds the flag', () => {
    expect(encodeValue(instance(), false)).toBe('');
    expect(encodeValue(instance(), true)).toBe('{"draining":true}');
    expect(encodeValue(instance({ weight: 2, tags: { a: 'b' } }), true)).toBe('{"weight":2,"tags":{"a":"b"},"draining":true}');
  });

  test("Switchyard's reader decodes what the SDK writes", () => {
    const i = instance({ host: '::1', weight: 5, zone: 'z1', subZone: 's1', priority: 2, version: 'v2', tags: { t: 'x' }, metadata: { any: [1] } });
    const decoded = plainFormat('/services/', { key: i.key, value: encodeValue(i, true), modRevision: 7, lease: '1' });
    expect(decoded).toEqual({
      kind: 'instance',
      instance: {
        key: '/services/greeter/[::1]:50051',
        service: 'greeter',
        host: '::1',
        port: 50051,
        weight: 5,
        locality: { region: '', zone: 'z1', subZone: 's1' },
        priority: 2,
        version: 'v2',
        tags: { t: 'x' },
        draining: true,
        revision: 7,
      },
    });
  });
});

test('normalizePrefix', () => {
  expect(normalizePrefix('/svc')).toEqual(ok('/svc/'));
  expect(normalizePrefix('/services/')).toEqual(ok('/services/'));
  expect(normalizePrefix('services/')).toEqual(err('prefix must start with "/" and contain no whitespace, such as /services/; got "services/"'));
});
