import { describe, expect, test } from 'bun:test';
import { makeInstance } from '../../../test/fixtures/catalog.ts';
import { decodeMessage, encodeMessage } from '../proto.ts';
import { buildLoadAssignment } from '../resources/endpoint.ts';
import { TypeUrl } from '../type-urls.ts';
import { validateResource } from '../validate/index.ts';
import { parseRoutePolicy } from '../../catalog/route-policy.ts';
import { createServiceEncoder, encodeService } from './service.ts';

const decodeAll = (name: string, instances = [makeInstance(name, 5001)]) =>
  Object.fromEntries(encodeService(name, instances).map((r) => [r.typeUrl, decodeMessage(r.typeUrl, r.bytes)]));

const ADS = { ads: {}, resource_api_version: 'V3' };

describe('proxyless resources on the wire', () => {
  test('the four resources of a service decode to the portable profile (xds-notes §2.8)', () => {
    const instances = [makeInstance('greeter', 5001), makeInstance('greeter', 5002, { host: '::1', weight: 3 })];
    expect(decodeAll('greeter', instances)).toEqual({
      [TypeUrl.Listener]: {
        name: 'greeter',
        api_listener: {
          api_listener: {
            '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
            stat_prefix: 'greeter',
            rds: { config_source: ADS, route_config_name: 'greeter' },
            http_filters: [
              { name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } },
            ],
          },
        },
      },
      [TypeUrl.RouteConfiguration]: {
        name: 'greeter',
        virtual_hosts: [
          { name: 'greeter', domains: ['greeter', 'greeter:*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'greeter', timeout: {} } }] },
        ],
      },
      [TypeUrl.Cluster]: {
        name: 'greeter',
        type: 'EDS',
        eds_cluster_config: { eds_config: ADS, service_name: 'greeter' },
        connect_timeout: { seconds: 5 },
        lb_policy: 'ROUND_ROBIN',
        typed_extension_protocol_options: {
          'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
            '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
            explicit_http_config: { http2_protocol_options: {} },
          },
        },
      },
      [TypeUrl.ClusterLoadAssignment]: {
        cluster_name: 'greeter',
        endpoints: [
          {
            locality: {},
            load_balancing_weight: { value: 4 },
            lb_endpoints: [
              { endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: 5001 } } }, health_status: 'HEALTHY', load_balancing_weight: { value: 1 } },
              { endpoint: { address: { socket_address: { address: '::1', port_value: 5002 } } }, health_status: 'HEALTHY', load_balancing_weight: { value: 3 } },
            ],
          },
        ],
      },
    });
  });

  test('a service without instances has an empty but valid assignment', () => {
    expect(decodeAll('lonely', [])[TypeUrl.ClusterLoadAssignment]).toEqual({ cluster_name: 'lonely' });
  });

  test('two keys with the same address give one endpoint (grpc-js NACKs duplicates)', () => {
    const dup = [makeInstance('a', 1), makeInstance('a', 1, { key: '/services/a/other' })];
    const cla = decodeAll('a', dup)[TypeUrl.ClusterLoadAssignment] as { endpoints: { lb_endpoints: unknown[] }[] };
    expect(cla.endpoints[0]!.lb_endpoints).toHaveLength(1);
  });

  test('versions: equal content, equal versions; the assignment version follows its cluster', () => {
    const a = encodeService('s', [makeInstance('s', 1)]);
    const b = encodeService('s', [makeInstance('s', 1, { revision: 99 })]);
    expect(a.map((r) => r.version)).toEqual(b.map((r) => r.version));
    const c = encodeService('s', [makeInstance('s', 2)]);
    const version = (rs: typeof a, t: string) => rs.find((r) => r.typeUrl === t)!.version;
    expect(version(c, TypeUrl.Cluster)).toBe(version(a, TypeUrl.Cluster));
    expect(version(c, TypeUrl.ClusterLoadAssignment)).not.toBe(version(a, TypeUrl.ClusterLoadAssignment));
    expect(version(a, TypeUrl.ClusterLoadAssignment)).not.toBe(version(encodeService('t', []), TypeUrl.ClusterLoadAssignment));
  });
});

describe('endpoint assignment: localities, priorities, draining', () => {
  const cla = (instances: ReturnType<typeof makeInstance>[]) => decodeAll('s', instances)[TypeUrl.ClusterLoadAssignment];
  const ep = (port: number, health = 'HEALTHY', weight = 1) => ({
    endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: port } } },
    health_status: health,
    load_balancing_weight: { value: weight },
  });

  test('instances are grouped by locality and priority; priorities become contiguous from 0', () => {
    const a = { region: 'eu', zone: 'a', subZone: '' };
    const b = { region: 'eu', zone: 'b', subZone: 'r1' };
    expect(
      cla([
        makeInstance('s', 1, { locality: a, priority: 3, weight: 2 }),
        makeInstance('s', 2, { locality: a, priority: 3 }),
        makeInstance('s', 3, { locality: b, priority: 3 }),
        makeInstance('s', 4, { locality: a, priority: 7, draining: true }),
      ]),
    ).toEqual({
      cluster_name: 's',
      endpoints: [
        { locality: { region: 'eu', zone: 'a' }, load_balancing_weight: { value: 3 }, lb_endpoints: [ep(1, 'HEALTHY', 2), ep(2)] },
        { locality: { region: 'eu', zone: 'b', sub_zone: 'r1' }, load_balancing_weight: { value: 1 }, lb_endpoints: [ep(3)] },
        { locality: { region: 'eu', zone: 'a' }, load_balancing_weight: { value: 1 }, priority: 1, lb_endpoints: [ep(4, 'DRAINING')] },
      ],
    });
  });

  test('assignments with zones, priorities and draining pass Envoy validation', () => {
    const instances = [
      makeInstance('s', 1, { locality: { region: 'r', zone: 'z', subZone: 's' }, priority: 2 }),
      makeInstance('s', 2, { draining: true, host: '::1' }),
    ];
    for (const r of encodeService('s', instances)) expect(validateResource(r.typeUrl, r.bytes)).toEqual([]);
  });
});

describe('createServiceEncoder', () => {
  test('an endpoint change re-validates only the new instances, and a bad one is refused every time it is offered', () => {
    const encode = createServiceEncoder();
    const a = makeInstance('s', 1);
    encode('s', [a]);
    const bad = makeInstance('s', 70_000);
    for (let attempt = 0; attempt < 2; attempt++) {
      expect(() => encode('s', [a, bad])).toThrow('lb_endpoints[1].endpoint.address.socket_address.port_value [uint32.lte]');
    }
    const good = makeInstance('s', 2);
    const cla = encode('s', [a, good]).find((r) => r.typeUrl === TypeUrl.ClusterLoadAssignment)!;
    expect(cla.version).toBe(encodeService('s', [a, good]).find((r) => r.typeUrl === TypeUrl.ClusterLoadAssignment)!.version);
  });

  test('subset assignments hold the instances their selectors pick, from the service\'s own validated ones', () => {
    const parsed = parseRoutePolicy('/switchyard/routes/s', JSON.stringify({ subsets: { v2: { version: 'v2' } }, routes: [{ to: 'v2' }] }));
    if (!parsed.ok) throw new Error(parsed.errors.join('; '));
    const policy = parsed.value;
    const v1 = makeInstance('s', 1, { version: 'v1' });
    const v2 = makeInstance('s', 2, { version: 'v2' });
    const rs = createServiceEncoder()('s', [v1, v2], policy);
    const subset = rs.find((r) => r.typeUrl === TypeUrl.ClusterLoadAssignment && r.name === 's/v2')!;
    expect(Buffer.from(subset.bytes).equals(encodeMessage(TypeUrl.ClusterLoadAssignment, buildLoadAssignment('s/v2', [v2]).message))).toBe(true);
  });
});
