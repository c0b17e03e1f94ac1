import { describe, expect, test } from 'bun:test';
import { createRequire } from 'node:module';
import { parseRoutePolicy, type RoutePolicy } from '../../catalog/route-policy.ts';
import { decodeMessage, encodeMessage } from '../proto.ts';
import { TypeUrl } from '../type-urls.ts';
import { validateResource } from '../validate/index.ts';
import { buildPolicyRoutes, durationFromMs } from './policy-routes.ts';
import { buildServiceVirtualHost } from './route.ts';
import type { ProtoObject } from './types.ts';

const policy = (value: unknown): RoutePolicy => {
  const r = parseRoutePolicy('/switchyard/routes/greeter', JSON.stringify(value));
  if (!r.ok) throw new Error(r.errors.join('\n'));
  return r.value;
};

const SUBSETS = { v1: { version: 'v1' }, v2: { version: 'v2' }, canary: { tags: { track: 'canary' } } };
const DEFAULT = { match: { prefix: '/' }, route: { cluster: 'greeter', timeout: {} } };

// grpc-js-xds's own RouteConfiguration decoder and validator (the one a proxyless client runs on every RDS update).
const require = createRequire(import.meta.url);
require('@grpc/grpc-js-xds'); // loads its protos; the resource-type module expects them
const { RouteConfigurationResourceType } = require('@grpc/grpc-js-xds/build/src/xds-resource-type/route-config-resource-type.js') as {
  RouteConfigurationResourceType: { get(): { decode(ctx: object, any: { type_url: string; value: Buffer }): { error?: string } } };
};
const grpcJsVerdict = (bytes: Uint8Array): string =>
  RouteConfigurationResourceType.get().decode({}, { type_url: TypeUrl.RouteConfiguration, value: Buffer.from(bytes) }).error ?? 'accepted';

/** The routes inside a RouteConfiguration shaped like the one `buildServiceRoute` makes. */
const routeConfiguration = (routes: ProtoObject[]) => ({
  name: 'greeter',
  virtual_hosts: [{ name: 'greeter', domains: ['greeter', 'greeter:*'], routes }],
});

const EXAMPLES: Record<string, unknown> = {
  'header route and weighted split': {
    subsets: SUBSETS,
    routes: [
      { match: { headers: [{ name: 'x-canary', exact: '1' }] }, to: 'canary', timeout: '2s' },
      { split: { v1: 90, v2: 10 }, retry: { on: ['unavailable'], retries: 3, backoff: { base: '25ms', max: '250ms' } } },
    ],
  },
  'every header kind, path prefix, fractional timeout, backoff without max': {
    subsets: SUBSETS,
    routes: [
      {
        match: { path_prefix: '/helloworld.Greeter/SayHello', headers: [{ name: 'x-a', exact: '' }, { name: 'x-b', prefix: 'beta-' }, { name: 'x-c', present: true }] },
        to: '*',
        timeout: '1.5s',
        retry: { on: ['cancelled', 'deadline-exceeded', 'internal', 'resource-exhausted', 'unavailable'], retries: 4, backoff: { base: '100ms' } },
      },
      { match: { path_prefix: '/helloworld.Greeter/' }, split: { '*': 50, canary: 50 } },
    ],
  },
  'catch-all with timeout only': { routes: [{ timeout: '1h' }] },
  'single-subset split': { subsets: SUBSETS, routes: [{ split: { v2: 100 }, timeout: '250ms' }] },
};

describe('buildPolicyRoutes', () => {
  test('without a policy: exactly the default route, timeout off', () => {
    expect(buildPolicyRoutes('greeter', undefined)).toEqual([DEFAULT]);
    expect(buildServiceVirtualHost('greeter').routes).toEqual(buildPolicyRoutes('greeter', undefined));
  });

  test('header route to a subset, weighted split with retries, default appended', () => {
    expect(buildPolicyRoutes('greeter', policy(EXAMPLES['header route and weighted split']))).toEqual([
      {
        match: { prefix: '/', headers: [{ name: 'x-canary', exact_match: '1' }] },
        route: { cluster: 'greeter/canary', timeout: { seconds: 2 }, max_stream_duration: { max_stream_duration: { seconds: 2 } } },
      },
      {
        match: { prefix: '/' },
        route: {
          weighted_clusters: {
            clusters: [
              { name: 'greeter/v1', weight: { value: 90 } },
              { name: 'greeter/v2', weight: { value: 10 } },
            ],
          },
          timeout: {},
          retry_policy: {
            retry_on: 'unavailable',
            num_retries: { value: 3 },
            retry_back_off: { base_interval: { nanos: 25_000_000 }, max_interval: { nanos: 250_000_000 } },
          },
        },
      },
    ]);
  });

  test('every header kind, a path prefix, a split with the whole service', () => {
    expect(buildPolicyRoutes('greeter', policy(EXAMPLES['every header kind, path prefix, fractional timeout, backoff without max']))).toEqual([
      {
        match: {
          prefix: '/helloworld.Greeter/SayHello',
          headers: [
            { name: 'x-a', exact_match: '' },
            { name: 'x-b', prefix_match: 'beta-' },
            { name: 'x-c', present_match: true },
          ],
        },
        route: {
          cluster: 'greeter',
          timeout: { seconds: 1, nanos: 500_000_000 },
          max_stream_duration: { max_stream_duration: { seconds: 1, nanos: 500_000_000 } },
          retry_policy: {
            retry_on: 'cancelled,deadline-exceeded,internal,resource-exhausted,unavailable',
            num_retries: { value: 4 },
            retry_back_off: { base_interval: { nanos: 100_000_000 } },
          },
        },
      },
      {
        match: { prefix: '/helloworld.Greeter/' },
        route: {
          weighted_clusters: {
            clusters: [
              { name: 'greeter', weight: { value: 50 } },
              { name: 'greeter/canary', weight: { value: 50 } },
            ],
          },
          timeout: {},
        },
      },
      DEFAULT,
    ]);
  });

  test('a catch-all of its own replaces the default; a one-subset split is a plain cluster', () => {
    expect(buildPolicyRoutes('greeter', policy(EXAMPLES['catch-all with timeout only']))).toEqual([
      { match: { prefix: '/' }, route: { cluster: 'greeter', timeout: { seconds: 3600 }, max_stream_duration: { max_stream_duration: { seconds: 3600 } } } },
    ]);
    expect(buildPolicyRoutes('greeter', policy(EXAMPLES['single-subset split']))).toEqual([
      { match: { prefix: '/' }, route: { cluster: 'greeter/v2', timeout: { nanos: 250_000_000 }, max_stream_duration: { max_stream_duration: { nanos: 250_000_000 } } } },
    ]);
  });

  test('durations leave zero fields out', () => {
    expect(durationFromMs(2000)).toEqual({ seconds: 2 });
    expect(durationFromMs(1)).toEqual({ nanos: 1_000_000 });
    expect(durationFromMs(61_001)).toEqual({ seconds: 61, nanos: 1_000_000 });
  });
});

describe('built RouteConfigurations on the wire', () => {
  const cases: [string, RoutePolicy | undefined][] = [
    ['no policy', undefined],
    ...Object.entries(EXAMPLES).map(([name, value]): [string, RoutePolicy] => [name, policy(value)]),
  ];

  test.each(cases)('%s: survives encoding field for field, passes Envoy validation, grpc-js-xds accepts it', (_name, p) => {
    const rc = routeConfiguration(buildPolicyRoutes('greeter', p));
    const bytes = encodeMessage(TypeUrl.RouteConfiguration, rc);
    // protobufjs drops fields it does not know; a round trip proves every field name is real.
    expect(decodeMessage(TypeUrl.RouteConfiguration, bytes)).toEqual(rc);
    expect(validateResource(TypeUrl.RouteConfiguration, bytes)).toEqual([]);
    expect(grpcJsVerdict(bytes)).toBe('accepted');
  });

  test('grpc-js-xds does reject what A44 forbids: num_retries 0', () => {
    const routes = structuredClone(buildPolicyRoutes('greeter', policy(EXAMPLES['header route and weighted split']))) as { route: { retry_policy?: object } }[];
    routes[1]!.route.retry_policy = { retry_on: 'unavailable', num_retries: { value: 0 } };
    expect(grpcJsVerdict(encodeMessage(TypeUrl.RouteConfiguration, routeConfiguration(routes as ProtoObject[])))).toContain('Invalid policy.num_retries.value: 0');
  });

  test('the validator does look inside routes: a back-off without base_interval is caught', () => {
    const routes = buildPolicyRoutes('greeter', policy(EXAMPLES['header route and weighted split']));
    const broken = structuredClone(routes) as { route: { retry_policy?: { retry_back_off?: object } } }[];
    broken[1]!.route.retry_policy!.retry_back_off = { max_interval: { seconds: 1 } };
    const errors = validateResource(TypeUrl.RouteConfiguration, encodeMessage(TypeUrl.RouteConfiguration, routeConfiguration(broken as ProtoObject[])));
    expect(errors).toEqual([
      expect.objectContaining({ path: 'virtual_hosts[0].routes[1].route.retry_policy.retry_back_off.base_interval', rule: 'duration.required' }),
    ]);
  });
});
