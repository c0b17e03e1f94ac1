/**
 * envoy/sidecar-sotw.yaml and envoy/sidecar-delta.yaml, judged the way Envoy judges a bootstrap (no Envoy binary
 * can run here): each must map 1:1 onto `envoy.config.bootstrap.v3.Bootstrap`, pass its protoc-gen-validate
 * rules, use the ADS flavour its name says, point at the Switchyard of compose.yaml, and, given to a real
 * Switchyard as Envoy would present it, lead to the listener and route compose's client relies on.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { defaults } from '../../src/config/config.ts';
import { validateResource } from '../../src/xds/validate/index.ts';
import { TypeUrl } from '../../src/xds/type-urls.ts';
import { expectedCluster, OUTBOUND } from '../fixtures/envoy-resources.ts';
import { openAdsClient, type Decoded, type Protocol } from '../harness/ads-client.ts';
import {
  BOOTSTRAP_TYPE,
  bootstrapRoot,
  commandOf,
  environmentOf,
  flagValue,
  fromProto3Json,
  portsOf,
  readCompose,
  readEnvoyBootstrap,
  splitHostPort,
  type EnvoyBootstrapFile,
} from '../harness/deploy-files.ts';
import { startEtcd, type TestEtcd } from '../harness/etcd.ts';
import { startSwitchyardOn, type TestSwitchyard } from '../harness/switchyard.ts';

const BOOTSTRAP_URL = `type.googleapis.com/${BOOTSTRAP_TYPE}`;
const HTTP_PROTOCOL_OPTIONS = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';

const FILES = [
  { path: 'envoy/sidecar-sotw.yaml', apiType: 'GRPC', protocol: 'sotw' },
  { path: 'envoy/sidecar-delta.yaml', apiType: 'DELTA_GRPC', protocol: 'delta' },
] as const satisfies readonly { path: string; apiType: string; protocol: Protocol }[];

const compose = readCompose();
/** The compose service whose container runs Envoy with one of envoy/*.yaml. */
const envoyService = Object.entries(compose.services).find(([, s]) => (s.volumes ?? []).some((v) => v.startsWith('./envoy/')));

/** The one static cluster the bootstrap names as its ADS server. */
function xdsCluster(file: EnvoyBootstrapFile): Decoded {
  const b = file.roundTrip as Decoded;
  const name = b.dynamic_resources.ads_config.grpc_services[0].envoy_grpc.cluster_name;
  const clusters = (b.static_resources.clusters as Decoded[]).filter((c) => c.name === name);
  expect(clusters).toHaveLength(1);
  return clusters[0]!;
}

const xdsAddress = (file: EnvoyBootstrapFile) =>
  xdsCluster(file).load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address as { address: string; port_value: number };

for (const { path, apiType } of FILES) {
  describe(path, () => {
    const file = readEnvoyBootstrap(path);

    test('maps 1:1 onto envoy.config.bootstrap.v3.Bootstrap: protobufjs keeps every field', () => {
      expect(file.roundTrip).toEqual(file.object);
    });

    test('passes the protoc-gen-validate rules of Bootstrap and of the HttpProtocolOptions inside its Any', () => {
      expect(validateResource(BOOTSTRAP_URL, file.bytes)).toEqual([]);
    });

    test(`asks for CDS and LDS over ADS with api_type ${apiType}, V3, from the static xDS cluster over HTTP/2`, () => {
      const dynamic = (file.roundTrip as Decoded).dynamic_resources;
      expect(dynamic.ads_config).toEqual({
        api_type: apiType,
        transport_api_version: 'V3',
        grpc_services: [{ envoy_grpc: { cluster_name: 'switchyard_xds' } }],
      });
      expect(dynamic.cds_config).toEqual({ ads: {}, resource_api_version: 'V3' });
      expect(dynamic.lds_config).toEqual({ ads: {}, resource_api_version: 'V3' });

      const cluster = xdsCluster(file);
      expect(cluster.type).toBe('STRICT_DNS');
      const options = cluster.typed_extension_protocol_options[HTTP_PROTOCOL_OPTIONS];
      expect(options['@type']).toBe(`type.googleapis.com/${HTTP_PROTOCOL_OPTIONS}`);
      expect(options.explicit_http_config.http2_protocol_options.connection_keepalive).toEqual({ interval: { seconds: 30 }, timeout: { seconds: 5 } });
    });

    test('names the node and keeps the admin interface on 127.0.0.1:9901', () => {
      const b = file.roundTrip as Decoded;
      expect(b.node.id).toMatch(/^envoy-sidecar-/);
      expect(b.node.cluster).toBe('envoy-client');
      expect(b.admin).toEqual({ address: { socket_address: { address: '127.0.0.1', port_value: 9901 } } });
    });

    test("points at compose.yaml's Switchyard: its service name, its --xds-listen port, the default xDS port", () => {
      const { address, port_value } = xdsAddress(file);
      const switchyard = compose.services[address];
      expect(switchyard).toBeDefined();
      const listen = splitHostPort(flagValue(commandOf(switchyard!), '--xds-listen') ?? '');
      // A loopback bind would be unreachable from the Envoy container.
      expect(listen).toEqual({ host: '0.0.0.0', port: port_value });
      expect(port_value).toBe(splitHostPort(defaults.xdsListen).port);
      expect(portsOf(switchyard!).map((p) => p.container)).toContain(port_value);
    });
  });
}

describe('envoy/ bootstraps together', () => {
  test('sotw and delta differ only in node.id and ads_config.api_type', () => {
    const [sotw, delta] = FILES.map((f) => structuredClone(readEnvoyBootstrap(f.path).roundTrip) as Decoded);
    for (const b of [sotw!, delta!]) {
      delete b.node.id;
      delete b.dynamic_resources.ads_config.api_type;
    }
    expect(delta).toEqual(sotw!);
  });

  test('compose.yaml runs Envoy with the SotW bootstrap, mounted where its -c flag reads it', () => {
    expect(envoyService).toBeDefined();
    const [, envoy] = envoyService!;
    const mounts = (envoy.volumes ?? []).map((v) => v.split(':'));
    const config = flagValue(commandOf(envoy), '-c');
    expect(mounts).toContainEqual(['./envoy/sidecar-sotw.yaml', config!, 'ro']);
  });
});

describe('the checks above catch broken bootstraps', () => {
  const type = () => bootstrapRoot().lookupType(BOOTSTRAP_TYPE);
  const sotw = () => structuredClone(readEnvoyBootstrap('envoy/sidecar-sotw.yaml').object) as Decoded;
  const roundTrip = (o: object) => type().toObject(type().fromObject(o), { enums: String, longs: Number, json: true });
  const validate = (o: object) => validateResource(BOOTSTRAP_URL, type().encode(type().fromObject(o)).finish());

  test('a misspelled field is dropped by protobufjs, so the round trip differs', () => {
    const b = sotw();
    b.dynamic_resources.ads_config.grpc_service = b.dynamic_resources.ads_config.grpc_services;
    delete b.dynamic_resources.ads_config.grpc_services;
    expect(roundTrip(b)).not.toEqual(b);
  });

  test('a ConfigSource without ads (or any source) breaks its required oneof', () => {
    const b = sotw();
    delete b.dynamic_resources.cds_config.ads;
    expect(validate(b)).toContainEqual(
      expect.objectContaining({ path: 'dynamic_resources.cds_config.config_source_specifier', rule: 'oneof.required' }),
    );
  });

  test('a rule inside the Any payload is checked too: connection_keepalive.timeout is required', () => {
    const b = sotw();
    delete b.static_resources.clusters[0].typed_extension_protocol_options[HTTP_PROTOCOL_OPTIONS].explicit_http_config.http2_protocol_options
      .connection_keepalive.timeout;
    const errors = validate(b);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.path).toEndWith('connection_keepalive.timeout');
  });

  test('a port above 65535 breaks uint32.lte', () => {
    const b = sotw();
    b.admin.address.socket_address.port_value = 70000;
    expect(validate(b)).toContainEqual(expect.objectContaining({ path: 'admin.address.socket_address.port_value', rule: 'uint32.lte' }));
  });

  test('only proto3 JSON durations are accepted, as in Envoy ("1m" is not one)', () => {
    const yaml = { static_resources: { clusters: [{ name: 'x', connect_timeout: '1m' }] } };
    expect(() => fromProto3Json(type(), yaml)).toThrow('"1m" is not a proto3 JSON duration');
    expect(fromProto3Json(type(), { static_resources: { clusters: [{ connect_timeout: '0.25s' }] } })).toEqual({
      static_resources: { clusters: [{ connect_timeout: { seconds: 0, nanos: 250_000_000 } }] },
    });
  });
});

describe('an Envoy with these bootstraps, against a real Switchyard', () => {
  let etcd: TestEtcd;
  let switchyard: TestSwitchyard;
  const envoyClient = compose.services['envoy-client']!;
  const target = splitHostPort(environmentOf(envoyClient)['ENVOY_TARGET'] ?? '');
  const authority = environmentOf(envoyClient)['GREETER_AUTHORITY'] ?? '';
  const greeter = environmentOf(compose.services['greeter-1']!);
  const service = greeter['GREETER_SERVICE']!;
  const instance = { host: '10.0.0.7', port: Number(greeter['GREETER_PORT']) };

  beforeAll(async () => {
    etcd = await startEtcd();
    await etcd.client.put(`${defaults.prefix}${service}/${instance.host}:${instance.port}`).value('');
    // Defaults except the listen address (compose's 0.0.0.0:18000 cannot be bound in a test).
    switchyard = await startSwitchyardOn(etcd);
  });
  afterAll(async () => {
    await switchyard?.stop();
    await etcd?.[Symbol.asyncDispose]();
  });

  for (const { path, protocol } of FILES) {
    test(`${path}: wildcard CDS and LDS over ${protocol} ADS give the cluster, and the listener and route compose's envoy-client uses`, async () => {
      const { node } = readEnvoyBootstrap(path).roundTrip as Decoded;
      await using envoy = openAdsClient({ address: switchyard.xdsAddress, protocol, nodeId: node.id, nodeCluster: node.cluster });

      envoy.subscribe(TypeUrl.Cluster, []);
      const cds = await envoy.next(TypeUrl.Cluster);
      expect(cds.resources.map((r) => r.body)).toEqual([expectedCluster(service)]);
      envoy.ack(cds);

      envoy.subscribe(TypeUrl.ClusterLoadAssignment, [service]);
      const eds = await envoy.next(TypeUrl.ClusterLoadAssignment);
      const lbEndpoints = eds.resources[0]!.body.endpoints[0].lb_endpoints;
      expect(lbEndpoints.map((e: Decoded) => e.endpoint.address.socket_address)).toEqual([
        { address: instance.host, port_value: instance.port },
      ]);
      envoy.ack(eds);

      envoy.subscribe(TypeUrl.Listener, []);
      const lds = await envoy.next(TypeUrl.Listener);
      expect(lds.resources.map((r) => r.name)).toEqual([OUTBOUND]);
      const listenerAddress = lds.resources[0]!.body.address.socket_address;
      // compose's envoy-client dials the Envoy service on the port Switchyard gives the outbound listener,
      // and compose publishes that same port.
      expect(listenerAddress).toEqual({ address: '0.0.0.0', port_value: target.port });
      expect(target.host).toBe(envoyService![0]);
      expect(portsOf(envoyService![1]).map((p) => p.container)).toContain(target.port);
      envoy.ack(lds);

      envoy.subscribe(TypeUrl.RouteConfiguration, [OUTBOUND]);
      const rds = await envoy.next(TypeUrl.RouteConfiguration);
      const hosts = rds.resources[0]!.body.virtual_hosts as Decoded[];
      // Envoy picks the virtual host by :authority; compose's client sends the registered service's name.
      expect(authority).toBe(service);
      const vhost = hosts.find((h) => (h.domains as string[]).includes(authority));
      expect(vhost?.routes[0].route.cluster).toBe(service);
      expect(hosts.find((h) => (h.domains as string[]).includes(`${authority}:${target.port}`) || (h.domains as string[]).includes(`${authority}:*`))).toBe(vhost);
      envoy.ack(rds);
    });
  }
});
