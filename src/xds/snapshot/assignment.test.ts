import { describe, expect, test } from 'bun:test';
import { makeInstance } from '../../../test/fixtures/catalog.ts';
import type { Instance } from '../../catalog/model.ts';
import { encodeMessage } from '../proto.ts';
import { buildLoadAssignment } from '../resources/endpoint.ts';
import { TypeUrl } from '../type-urls.ts';
import { encodeAssignment, knownFrom } from './assignment.ts';

/** protobufjs's encoding of the plain-object builder: the reference the direct encoder must match. */
const reference = (cluster: string, instances: readonly Instance[]) => Buffer.from(encodeMessage(TypeUrl.ClusterLoadAssignment, buildLoadAssignment(cluster, instances).message));

/** Deterministic pseudo-random numbers (high bits of an LCG). */
function random(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return Math.floor((s / 2 ** 32) * n);
  };
}

function randomInstances(r: (n: number) => number, count: number): Instance[] {
  const regions = ['', 'eu', 'us-east', 'región-ñ'];
  const hosts = ['10.0.0.1', '10.0.0.2', '192.168.100.200', '::1', 'fe80::1:2:3:4', '2001:db8::7'];
  return Array.from({ length: count }, (_, n) => {
    const host = hosts[r(hosts.length)]!;
    const port = [1, 80, 127, 128, 16383, 16384, 65535][r(7)]!;
    return makeInstance('svc', port, {
      key: `/services/svc/${n}`,
      host,
      // 127/128, 16383/16384 and 1e6 cross varint widths
      weight: [1, 2, 127, 128, 16384, 1_000_000][r(6)]!,
      priority: r(3) === 0 ? r(4) : 0,
      draining: r(5) === 0,
      locality: r(3) === 0 ? { region: regions[r(4)]!, zone: r(2) ? 'a' : '', subZone: r(2) ? 'rack-7' : '' } : { region: '', zone: '', subZone: '' },
    });
  });
}

describe('encodeAssignment', () => {
  test('writes the bytes protobufjs makes of the same assignment, over random instance sets', () => {
    const r = random(7);
    for (let round = 0; round < 400; round++) {
      const instances = randomInstances(r, r(round < 20 ? 3 : 40));
      const cluster = ['svc', 'svc/v2', 'a'.repeat(200)][r(3)]!;
      expect(Buffer.from(encodeAssignment(cluster, instances)).toString('hex')).toBe(reference(cluster, instances).toString('hex'));
    }
  });

  test('an empty assignment is the cluster name alone', () => {
    expect(Buffer.from(encodeAssignment('svc', [])).equals(reference('svc', []))).toBe(true);
  });

  // Without `known` the whole assignment is validated at once; with it, per new endpoint plus the rest.
  const nothingKnown = [undefined, () => false] as const;

  test.each(nothingKnown)('a new instance that breaks a rule fails the assignment, naming the field (known: %p)', (known) => {
    const bad = makeInstance('svc', 70_000, { weight: 0 });
    expect(() => encodeAssignment('svc', [makeInstance('svc', 1), bad], known)).toThrow(
      'ClusterLoadAssignment "svc" failed validation (2 errors): endpoints[0].lb_endpoints[1].endpoint.address.socket_address.port_value [uint32.lte]: value must be <= 65535, got 70000; endpoints[0].lb_endpoints[1].load_balancing_weight [uint32.gte]: value must be >= 1, got 0',
    );
  });

  test.each(nothingKnown)('the parts outside the endpoints are validated too (known: %p)', (known) => {
    expect(() => encodeAssignment('', [makeInstance('svc', 1)], known)).toThrow('cluster_name [string.min_len]');
    // each weight fits in a uint32, their sum wraps to 0 as protobufjs would write it
    const halves = [makeInstance('svc', 1, { weight: 2 ** 31 }), makeInstance('svc', 2, { weight: 2 ** 31 })];
    expect(() => encodeAssignment('svc', halves, known)).toThrow('(1 error): endpoints[0].load_balancing_weight [uint32.gte]: value must be >= 1, got 0');
  });

  test('instances said to be known are not validated again; all others are', () => {
    const bad = makeInstance('svc', 70_000);
    expect(() => encodeAssignment('svc', [bad], (i) => i === bad)).not.toThrow();
    expect(() => encodeAssignment('svc', [bad], (i) => i !== bad)).toThrow('lb_endpoints[0].endpoint.address.socket_address.port_value [uint32.lte]');
  });
});

describe('knownFrom', () => {
  const [a, b, c] = [makeInstance('svc', 1), makeInstance('svc', 2), makeInstance('svc', 3)];

  test('knows the very objects it saw, in key order, and nothing else', () => {
    const copyOfB = makeInstance('svc', 2);
    const current = [a, copyOfB, c];
    expect(current.map(knownFrom([a, b], current))).toEqual([true, false, false]);
    expect(knownFrom([a, b, c], [b])(b)).toBe(true);
  });

  test('a list out of key order only makes instances count as new', () => {
    expect(knownFrom([a, b], [b, a])(a)).toBe(false);
    expect(knownFrom([], [a])(a)).toBe(false);
  });
});
