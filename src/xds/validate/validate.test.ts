import { describe, expect, test } from 'bun:test';
import { instanceDefaults, type Instance } from '../../catalog/model.ts';
import { encodeMessage } from '../proto.ts';
import { buildEdsCluster } from '../resources/cluster.ts';
import { buildLoadAssignment } from '../resources/endpoint.ts';
import { buildApiListener } from '../resources/listener.ts';
import { buildServiceRoute } from '../resources/route.ts';
import { buildServiceResources } from '../resources/service.ts';
import { EmbeddedTypeUrl, TypeUrl } from '../type-urls.ts';
import { formatValidationErrors, validateMessage, validateResource } from './index.ts';

// Each case breaks one PGV rule on a real Envoy field, encodes the resource with protobufjs, and
// expects exactly that [path, rule] back from the decoded bytes (xds-notes §4.3).

type Obj = Record<string, any>;

function instance(host: string, port: number, weight = 1): Instance {
  return { ...instanceDefaults(`/services/users/${host}:${port}`, 'users', host, port, 1), weight };
}

const clone = (o: object): Obj => structuredClone(o) as Obj;
const cluster = () => clone(buildEdsCluster('users').message);
const assignment = () => clone(buildLoadAssignment('users', [instance('10.0.0.1', 8080), instance('10.0.0.2', 8080, 3)]).message);
const listener = () => clone(buildApiListener('users', 'users').message);
const hcm = (l: Obj): Obj => l.api_listener.api_listener;
const routes = () => clone(buildServiceRoute('users').message);
const firstRoute = (rc: Obj): Obj => rc.virtual_hosts[0].routes[0];

/** [path, rule] of every error the validator reports for `message` after a trip through the wire. */
function violations(typeUrl: string, message: object): [string, string][] {
  return validateResource(typeUrl, encodeMessage(typeUrl, message)).map((e) => [e.path, e.rule]);
}

const HCM = 'api_listener.api_listener';
const ROUTE = 'virtual_hosts[0].routes[0]';
const LB0 = 'endpoints[0].lb_endpoints[0]';

describe('resources Switchyard builds pass', () => {
  test('the proxyless chain of a service with IPv4, IPv6 and varied weights', () => {
    const instances = [instance('10.0.0.1', 50051, 1), instance('2001:db8::7', 50051, 10), instance('::1', 1, 1000)];
    for (const r of buildServiceResources('users', instances)) {
      expect({ name: r.name, errors: validateResource(r.typeUrl, encodeMessage(r.typeUrl, r.message)) }).toEqual({ name: r.name, errors: [] });
    }
  });

  test('an empty service (no instances) and many services', () => {
    for (let i = 0; i < 50; i++) {
      const instances = Array.from({ length: i % 7 }, (_, j) => instance(`10.1.${i}.${j}`, 1000 + j, 1 + (j % 4)));
      for (const r of buildServiceResources(`svc-${i}.ns`, instances)) {
        expect(validateResource(r.typeUrl, encodeMessage(r.typeUrl, r.message))).toEqual([]);
      }
    }
  });

  test('the builders\' plain objects validate the same way', () => {
    for (const r of buildServiceResources('users', [instance('10.0.0.1', 80)])) {
      expect(validateMessage(r.typeUrl.slice(r.typeUrl.lastIndexOf('/') + 1), r.message)).toEqual([]);
    }
  });
});

describe('Cluster', () => {
  test('name: string.min_len', () => {
    const c = cluster();
    c.name = '';
    expect(violations(TypeUrl.Cluster, c)).toEqual([['name', 'string.min_len']]);
  });

  test('type: enum.defined_only, with an undefined enum number on the wire', () => {
    const c = cluster();
    c.type = 99;
    expect(violations(TypeUrl.Cluster, c)).toEqual([['type', 'enum.defined_only']]);
    const [error] = validateResource(TypeUrl.Cluster, encodeMessage(TypeUrl.Cluster, c));
    expect(error!.message).toBe('value must be a defined DiscoveryType value, got 99');
  });

  test('lb_policy: enum.defined_only', () => {
    const c = cluster();
    c.lb_policy = 42;
    expect(violations(TypeUrl.Cluster, c)).toEqual([['lb_policy', 'enum.defined_only']]);
  });

  test('connect_timeout: duration.gt {} (must be > 0 when set)', () => {
    const c = cluster();
    c.connect_timeout = { seconds: 0 };
    expect(violations(TypeUrl.Cluster, c)).toEqual([['connect_timeout', 'duration.gt']]);
    delete c.connect_timeout; // unset is fine: Envoy defaults it to 5 s
    expect(violations(TypeUrl.Cluster, c)).toEqual([]);
  });

  test('dns_refresh_rate: duration.gt {nanos: 1000000}', () => {
    const c = cluster();
    c.dns_refresh_rate = { nanos: 1_000_000 };
    expect(violations(TypeUrl.Cluster, c)).toEqual([['dns_refresh_rate', 'duration.gt']]);
    c.dns_refresh_rate = { nanos: 1_000_001 };
    expect(violations(TypeUrl.Cluster, c)).toEqual([]);
  });

  test('OutlierDetection: durations gt 0 and UInt32Value lte 100', () => {
    const c = cluster();
    c.outlier_detection = { interval: {}, max_ejection_percent: { value: 101 }, base_ejection_time: { seconds: 30 } };
    expect(violations(TypeUrl.Cluster, c)).toEqual([
      ['outlier_detection.interval', 'duration.gt'],
      ['outlier_detection.max_ejection_percent', 'uint32.lte'],
    ]);
  });

  test('eds_config: ConfigSource oneof (validate.required) and resource_api_version defined_only', () => {
    const c = cluster();
    c.eds_cluster_config.eds_config = { resource_api_version: 'V3' };
    expect(violations(TypeUrl.Cluster, c)).toEqual([['eds_cluster_config.eds_config.config_source_specifier', 'oneof.required']]);
    c.eds_cluster_config.eds_config = { ads: {}, resource_api_version: 9 };
    expect(violations(TypeUrl.Cluster, c)).toEqual([['eds_cluster_config.eds_config.resource_api_version', 'enum.defined_only']]);
  });

  test('HttpProtocolOptions inside the typed_extension_protocol_options map of Any', () => {
    const c = cluster();
    const key = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';
    c.typed_extension_protocol_options[key] = { '@type': EmbeddedTypeUrl.HttpProtocolOptions };
    expect(violations(TypeUrl.Cluster, c)).toEqual([[`typed_extension_protocol_options["${key}"].upstream_protocol_options`, 'oneof.required']]);
  });

  test('metadata.filter_metadata: map.keys.string.min_len', () => {
    const c = cluster();
    c.metadata = { filter_metadata: { '': { fields: {} } } };
    expect(violations(TypeUrl.Cluster, c)).toEqual([['metadata.filter_metadata[""]', 'map.keys.string.min_len']]);
  });

  test('upstream_config: TypedExtensionConfig any.required and name min_len', () => {
    const c = cluster();
    c.upstream_config = { name: '' };
    expect(violations(TypeUrl.Cluster, c)).toEqual([
      ['upstream_config.name', 'string.min_len'],
      ['upstream_config.typed_config', 'any.required'],
    ]);
  });

  test('wrappers: DoubleValue gte/lte and UInt64Value lte', () => {
    const c = cluster();
    c.preconnect_policy = { per_upstream_preconnect_ratio: { value: 3.5 }, predictive_preconnect_ratio: { value: 0.5 } };
    c.lb_policy = 'RING_HASH';
    c.ring_hash_lb_config = { minimum_ring_size: { value: 8_388_609 } };
    expect(violations(TypeUrl.Cluster, c)).toEqual([
      ['ring_hash_lb_config.minimum_ring_size', 'uint64.lte'],
      ['preconnect_policy.per_upstream_preconnect_ratio', 'double.lte'],
      ['preconnect_policy.predictive_preconnect_ratio', 'double.gte'],
    ]);
  });

  test('health check: duration.required, message.required, oneof, enum not_in, strict header value', () => {
    const c = cluster();
    const valid = { timeout: { seconds: 1 }, interval: { seconds: 5 }, unhealthy_threshold: { value: 2 }, healthy_threshold: { value: 2 }, http_health_check: { path: '/healthz' } };
    c.health_checks = [valid];
    expect(violations(TypeUrl.Cluster, c)).toEqual([]);
    c.health_checks = [{ ...valid, http_health_check: { path: '/healthz', method: 'CONNECT' } }];
    expect(violations(TypeUrl.Cluster, c)).toEqual([['health_checks[0].http_health_check.method', 'enum.not_in']]);
    c.health_checks = [{ ...valid, http_health_check: { path: '/health\u0001z' } }];
    expect(violations(TypeUrl.Cluster, c)).toEqual([['health_checks[0].http_health_check.path', 'string.well_known_regex']]);
    c.health_checks = [{ interval: { seconds: 5 }, healthy_threshold: { value: 2 } }];
    expect(violations(TypeUrl.Cluster, c)).toEqual([
      ['health_checks[0].health_checker', 'oneof.required'],
      ['health_checks[0].timeout', 'duration.required'],
      ['health_checks[0].unhealthy_threshold', 'message.required'],
    ]);
  });

  test('common_lb_config.override_host_status: repeated.items.enum.defined_only', () => {
    const c = cluster();
    c.common_lb_config = { override_host_status: { statuses: ['HEALTHY', 42] } };
    expect(violations(TypeUrl.Cluster, c)).toEqual([['common_lb_config.override_host_status.statuses[1]', 'repeated.items.enum.defined_only']]);
  });
});

describe('ClusterLoadAssignment', () => {
  test('cluster_name: string.min_len', () => {
    const a = assignment();
    a.cluster_name = '';
    expect(violations(TypeUrl.ClusterLoadAssignment, a)).toEqual([['cluster_name', 'string.min_len']]);
  });

  test('SocketAddress.port_value: uint32.lte 65535', () => {
    const a = assignment();
    a.endpoints[0].lb_endpoints[1].endpoint.address.socket_address.port_value = 70000;
    expect(violations(TypeUrl.ClusterLoadAssignment, a)).toEqual([['endpoints[0].lb_endpoints[1].endpoint.address.socket_address.port_value', 'uint32.lte']]);
    const [error] = validateResource(TypeUrl.ClusterLoadAssignment, encodeMessage(TypeUrl.ClusterLoadAssignment, a));
    expect(error!.message).toBe('value must be <= 65535, got 70000');
  });

  test('SocketAddress: address min_len, port_specifier required, protocol defined_only', () => {
    const a = assignment();
    a.endpoints[0].lb_endpoints[0].endpoint.address.socket_address = { address: '', protocol: 7 };
    expect(violations(TypeUrl.ClusterLoadAssignment, a)).toEqual([
      [`${LB0}.endpoint.address.socket_address.port_specifier`, 'oneof.required'],
      [`${LB0}.endpoint.address.socket_address.protocol`, 'enum.defined_only'],
      [`${LB0}.endpoint.address.socket_address.address`, 'string.min_len'],
    ]);
  });

  test('port_value 0 is set (oneof presence) and valid', () => {
    const a = assignment();
    a.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.port_value = 0;
    expect(violations(TypeUrl.ClusterLoadAssignment, a)).toEqual([]);
  });

  test('Address: oneof (validate.required)', () => {
    const a = assignment();
    a.endpoints[0].lb_endpoints[0].endpoint.address = {};
    expect(violations(TypeUrl.ClusterLoadAssignment, a)).toEqual([[`${LB0}.endpoint.address.address`, 'oneof.required']]);
  });

  test('load_balancing_weight (UInt32Value wrapper): uint32.gte 1 on locality and endpoint', () => {
    const a = assignment();
    a.endpoints[0].load_balancing_weight = { value: 0 };
    a.endpoints[0].lb_endpoints[1].load_balancing_weight = { value: 0 };
    // Errors come in walk order: a message's required oneofs, then its fields in .proto declaration order.
    expect(violations(TypeUrl.ClusterLoadAssignment, a)).toEqual([
      ['endpoints[0].lb_endpoints[1].load_balancing_weight', 'uint32.gte'],
      ['endpoints[0].load_balancing_weight', 'uint32.gte'],
    ]);
    delete a.endpoints[0].load_balancing_weight; // unset wrapper: no rule applies
    delete a.endpoints[0].lb_endpoints[1].load_balancing_weight;
    expect(violations(TypeUrl.ClusterLoadAssignment, a)).toEqual([]);
  });

  test('LocalityLbEndpoints.priority: uint32.lte 128', () => {
    const a = assignment();
    a.endpoints[0].priority = 129;
    expect(violations(TypeUrl.ClusterLoadAssignment, a)).toEqual([['endpoints[0].priority', 'uint32.lte']]);
  });
});

describe('Listener and the HttpConnectionManager / Router inside its Any', () => {
  test('HttpConnectionManager.stat_prefix: string.min_len', () => {
    const l = listener();
    hcm(l).stat_prefix = '';
    expect(violations(TypeUrl.Listener, l)).toEqual([[`${HCM}.stat_prefix`, 'string.min_len']]);
  });

  test('route_specifier: oneof (validate.required)', () => {
    const l = listener();
    delete hcm(l).rds;
    expect(violations(TypeUrl.Listener, l)).toEqual([[`${HCM}.route_specifier`, 'oneof.required']]);
  });

  test('Rds.config_source: message.required', () => {
    const l = listener();
    delete hcm(l).rds.config_source;
    expect(violations(TypeUrl.Listener, l)).toEqual([[`${HCM}.rds.config_source`, 'message.required']]);
  });

  test('max_request_headers_kb: UInt32Value range (0, 8192]', () => {
    const l = listener();
    hcm(l).max_request_headers_kb = { value: 0 };
    expect(violations(TypeUrl.Listener, l)).toEqual([[`${HCM}.max_request_headers_kb`, 'uint32.gt']]);
    hcm(l).max_request_headers_kb = { value: 8193 };
    expect(violations(TypeUrl.Listener, l)).toEqual([[`${HCM}.max_request_headers_kb`, 'uint32.lte']]);
  });

  test('scheme_header_transformation.scheme_to_overwrite: string.in', () => {
    const l = listener();
    hcm(l).scheme_header_transformation = { scheme_to_overwrite: 'ftp' };
    expect(violations(TypeUrl.Listener, l)).toEqual([[`${HCM}.scheme_header_transformation.scheme_to_overwrite`, 'string.in']]);
  });

  test('HttpFilter.name: string.min_len; Router.strict_check_headers: repeated.items.string.in', () => {
    const l = listener();
    hcm(l).http_filters = [{ name: '', typed_config: { '@type': EmbeddedTypeUrl.Router, strict_check_headers: ['x-envoy-max-retries', 'x-nope'] } }];
    expect(violations(TypeUrl.Listener, l)).toEqual([
      [`${HCM}.http_filters[0].name`, 'string.min_len'],
      [`${HCM}.http_filters[0].typed_config.strict_check_headers[1]`, 'repeated.items.string.in'],
    ]);
  });

  test('max_connections_to_accept_per_socket_event: UInt32Value gt 0', () => {
    const l = listener();
    l.max_connections_to_accept_per_socket_event = { value: 0 };
    expect(violations(TypeUrl.Listener, l)).toEqual([['max_connections_to_accept_per_socket_event', 'uint32.gt']]);
  });

  test('FilterChainMatch.source_ports: repeated.items.uint32 range; ListenerFilter predicate bool.const', () => {
    const l = listener();
    l.filter_chains = [{ filter_chain_match: { source_ports: [80, 0, 65536] } }];
    l.listener_filters = [{ name: 'envoy.filters.listener.tls_inspector', filter_disabled: { any_match: false } }];
    expect(violations(TypeUrl.Listener, l)).toEqual([
      ['filter_chains[0].filter_chain_match.source_ports[1]', 'repeated.items.uint32.gte'],
      ['filter_chains[0].filter_chain_match.source_ports[2]', 'repeated.items.uint32.lte'],
      ['listener_filters[0].filter_disabled.any_match', 'bool.const'],
    ]);
  });
});

describe('RouteConfiguration', () => {
  test('VirtualHost.domains: repeated.min_items and items HTTP_HEADER_VALUE (loose)', () => {
    const rc = routes();
    rc.virtual_hosts[0].domains = [];
    expect(violations(TypeUrl.RouteConfiguration, rc)).toEqual([['virtual_hosts[0].domains', 'repeated.min_items']]);
    rc.virtual_hosts[0].domains = ['users', 'bad\r\nhost'];
    expect(violations(TypeUrl.RouteConfiguration, rc)).toEqual([['virtual_hosts[0].domains[1]', 'repeated.items.string.well_known_regex']]);
  });

  test('VirtualHost.name: string.min_len', () => {
    const rc = routes();
    rc.virtual_hosts[0].name = '';
    expect(violations(TypeUrl.RouteConfiguration, rc)).toEqual([['virtual_hosts[0].name', 'string.min_len']]);
  });

  test('Route.match: message.required; Route.action: oneof (validate.required)', () => {
    const rc = routes();
    delete firstRoute(rc).match;
    delete firstRoute(rc).route;
    expect(violations(TypeUrl.RouteConfiguration, rc)).toEqual([
      [`${ROUTE}.action`, 'oneof.required'],
      [`${ROUTE}.match`, 'message.required'],
    ]);
  });

  test('RouteAction.cluster_specifier: oneof (validate.required); cluster: string.min_len', () => {
    const rc = routes();
    firstRoute(rc).route = {};
    expect(violations(TypeUrl.RouteConfiguration, rc)).toEqual([[`${ROUTE}.route.cluster_specifier`, 'oneof.required']]);
    firstRoute(rc).route = { cluster: '' };
    expect(violations(TypeUrl.RouteConfiguration, rc)).toEqual([[`${ROUTE}.route.cluster`, 'string.min_len']]);
  });

  test('WeightedCluster.clusters: repeated.min_items', () => {
    const rc = routes();
    firstRoute(rc).route = { weighted_clusters: { clusters: [] } };
    expect(violations(TypeUrl.RouteConfiguration, rc)).toEqual([[`${ROUTE}.route.weighted_clusters.clusters`, 'repeated.min_items']]);
  });

  test('RouteMatch: path_specifier required; path_separated_prefix pattern', () => {
    const rc = routes();
    firstRoute(rc).match = {};
    expect(violations(TypeUrl.RouteConfiguration, rc)).toEqual([[`${ROUTE}.match.path_specifier`, 'oneof.required']]);
    firstRoute(rc).match = { path_separated_prefix: '/api/' };
    expect(violations(TypeUrl.RouteConfiguration, rc)).toEqual([[`${ROUTE}.match.path_separated_prefix`, 'string.pattern']]);
    firstRoute(rc).match = { path_separated_prefix: '/api' };
    expect(violations(TypeUrl.RouteConfiguration, rc)).toEqual([]);
  });

  test('HeaderMatcher.name: string.min_len and well_known_regex HTTP_HEADER_NAME (loose)', () => {
    const rc = routes();
    firstRoute(rc).match.headers = [{ name: 'x-ok', present_match: true }, { name: 'bad\nname', present_match: true }, { name: '', present_match: true }];
    expect(violations(TypeUrl.RouteConfiguration, rc)).toEqual([
      [`${ROUTE}.match.headers[1].name`, 'string.well_known_regex'],
      [`${ROUTE}.match.headers[2].name`, 'string.min_len'],
    ]);
  });

  test('RetryBackOff.base_interval: duration.required and gt 0', () => {
    const rc = routes();
    firstRoute(rc).route.retry_policy = { retry_on: '5xx', retry_back_off: { max_interval: { seconds: 1 } } };
    expect(violations(TypeUrl.RouteConfiguration, rc)).toEqual([[`${ROUTE}.route.retry_policy.retry_back_off.base_interval`, 'duration.required']]);
    firstRoute(rc).route.retry_policy.retry_back_off.base_interval = {};
    expect(violations(TypeUrl.RouteConfiguration, rc)).toEqual([[`${ROUTE}.route.retry_policy.retry_back_off.base_interval`, 'duration.gt']]);
  });

  test('InternalRedirectPolicy.response_headers_to_copy: repeated.unique', () => {
    const rc = routes();
    firstRoute(rc).route.internal_redirect_policy = { response_headers_to_copy: ['x-a', 'x-b', 'x-a'] };
    expect(violations(TypeUrl.RouteConfiguration, rc)).toEqual([[`${ROUTE}.route.internal_redirect_policy.response_headers_to_copy[2]`, 'repeated.unique']]);
  });

  test('request_headers_to_add: repeated.max_items 1000; HeaderValue.key max_bytes 16384', () => {
    const rc = routes();
    rc.request_headers_to_add = Array.from({ length: 1001 }, (_, i) => ({ header: { key: `x-h${i}`, value: 'v' } }));
    expect(violations(TypeUrl.RouteConfiguration, rc)).toEqual([['request_headers_to_add', 'repeated.max_items']]);
    rc.request_headers_to_add = [{ header: { key: 'x'.repeat(16385), value: 'v' } }, {}];
    expect(violations(TypeUrl.RouteConfiguration, rc)).toEqual([
      ['request_headers_to_add[0].header.key', 'string.max_bytes'],
      ['request_headers_to_add[1].header', 'message.required'],
    ]);
  });
});

describe('formatValidationErrors', () => {
  test('names the resource, each field path and rule', () => {
    const c = cluster();
    c.name = '';
    c.connect_timeout = { seconds: -1 };
    const errors = validateResource(TypeUrl.Cluster, encodeMessage(TypeUrl.Cluster, c));
    expect(formatValidationErrors('users', TypeUrl.Cluster, errors)).toBe(
      'Cluster "users" failed validation (2 errors): name [string.min_len]: value length must be at least 1 characters, got 0; ' +
        'connect_timeout [duration.gt]: value must be > 0s, got -1s',
    );
  });

  test('maxErrors caps what is recorded', () => {
    const rc = routes();
    rc.virtual_hosts[0].domains = Array.from({ length: 10 }, () => '\n');
    expect(validateResource(TypeUrl.RouteConfiguration, encodeMessage(TypeUrl.RouteConfiguration, rc), { maxErrors: 3 })).toHaveLength(3);
  });

  test('bytes that do not decode are reported, not thrown', () => {
    expect(validateResource(TypeUrl.Cluster, Uint8Array.of(0x0a, 0xff))).toEqual([
      { path: '', rule: 'decode', message: expect.stringContaining('do not decode as envoy.config.cluster.v3.Cluster') },
    ]);
  });
});
