/**
 * The measuring side of the propagation bench, in its own process (pinned to its own core by the driver).
 * It watches one service two ways and stamps, with the shared clock of `lib/clock.ts`, the moment it
 * learns of each change:
 *   - a plain etcd watch on `/services/<service>/` (the floor: etcd's own propagation), and
 *   - a raw SotW ADS stream to Switchyard that behaves like a proxyless gRPC client: LDS for the service,
 *     then RDS, CDS and EDS by following the names each resource references, ACKing every response.
 * Output is one JSON object per line on stdout:
 *   {kind:'etcd', op, key, t}   {kind:'eds', ports, version, t}   {kind:'ready'}   {kind:'pong', t0, t1}
 *   {kind:'summary', responses}   {kind:'error', message}
 * Input on stdin: `{kind:'ping', t0}` lines (clock check); EOF means stop.
 *
 * Usage: bun bench/ads-subscriber.ts --xds 127.0.0.1:PORT --etcd http://127.0.0.1:PORT --service bench-svc
 * @module
 */
import * as grpc from '@grpc/grpc-js';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { createEtcdClient } from '../src/registry/etcd-client.ts';
import { decodeMessage, messageType } from '../src/xds/proto.ts';
import { TypeUrl, shortTypeName } from '../src/xds/type-urls.ts';
import { now } from './lib/clock.ts';

const { values: args } = parseArgs({
  options: { xds: { type: 'string' }, etcd: { type: 'string' }, service: { type: 'string', default: 'bench-svc' } },
});
if (!args.xds || !args.etcd) {
  process.stderr.write('usage: bun bench/ads-subscriber.ts --xds HOST:PORT --etcd URL [--service NAME]\n');
  process.exit(2);
}
const service = args.service!;
const emit = (line: object) => process.stdout.write(JSON.stringify(line) + '\n');

// --- plain etcd watch -------------------------------------------------------------------------------
const etcd = createEtcdClient({ endpoints: [args.etcd] });
const watcher = await etcd.watch().prefix(`/services/${service}/`).create();
watcher.on('put', (kv) => emit({ kind: 'etcd', op: 'put', key: kv.key.toString(), t: now() }));
watcher.on('delete', (kv) => emit({ kind: 'etcd', op: 'delete', key: kv.key.toString(), t: now() }));
watcher.on('error', (e) => emit({ kind: 'error', message: `etcd watch: ${e.message}` }));

// --- ADS stream ------------------------------------------------------------------------------------
interface AnyMessage {
  type_url: string;
  value: Uint8Array;
}
interface RawResponse {
  version_info: string;
  resources: AnyMessage[];
  type_url: string;
  nonce: string;
}
type Decoded = Record<string, any>;

const requestType = messageType('envoy.service.discovery.v3.DiscoveryRequest');
const responseType = messageType('envoy.service.discovery.v3.DiscoveryResponse');
const node = { id: `bench-subscriber-${process.pid}`, user_agent_name: 'switchyard-bench', client_features: ['envoy.lb.does_not_support_overprovisioning'] };

const client = new grpc.Client(args.xds, grpc.credentials.createInsecure());
const call = client.makeBidiStreamRequest<object, RawResponse>(
  '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources',
  (req) => Buffer.from(requestType.encode(requestType.fromObject(req)).finish()),
  (bytes) => responseType.toObject(responseType.decode(bytes), { defaults: true }) as RawResponse,
);

/** Names subscribed per type; a type is requested once the resource before it names what to ask for. */
const subscribed = new Map<string, string>();
const responses: Record<string, number> = {};
let sentNode = false;
let ready = false;

function request(typeUrl: string, name: string, ack?: { version: string; nonce: string }): void {
  call.write({
    node: sentNode ? undefined : node,
    type_url: typeUrl,
    resource_names: [name],
    version_info: ack?.version ?? '',
    response_nonce: ack?.nonce ?? '',
  });
  sentNode = true;
}

/** Subscribes `typeUrl` to `name` (the first time, or when a reference changed). */
function follow(typeUrl: string, name: string | undefined): void {
  if (!name || subscribed.get(typeUrl) === name) return;
  subscribed.set(typeUrl, name);
  request(typeUrl, name);
}

call.on('data', (res: RawResponse) => {
  const decoded = res.resources.map((a): Decoded => decodeMessage(a.type_url, a.value));
  const t = now();
  responses[shortTypeName(res.type_url)] = (responses[shortTypeName(res.type_url)] ?? 0) + 1;
  if (res.type_url === TypeUrl.ClusterLoadAssignment) {
    for (const cla of decoded) emit({ kind: 'eds', ports: ports(cla), version: res.version_info, t });
  }
  // ACK first (a real client acknowledges what it applied), then follow references to the next type.
  request(res.type_url, subscribed.get(res.type_url)!, { version: res.version_info, nonce: res.nonce });
  const r = decoded[0];
  if (!r) return;
  switch (res.type_url) {
    case TypeUrl.Listener:
      return follow(TypeUrl.RouteConfiguration, r.api_listener?.api_listener?.rds?.route_config_name);
    case TypeUrl.RouteConfiguration: {
      const host = (r.virtual_hosts ?? []).find((v: Decoded) => v.domains?.includes(service));
      return follow(TypeUrl.Cluster, host?.routes?.[0]?.route?.cluster);
    }
    case TypeUrl.Cluster:
      return follow(TypeUrl.ClusterLoadAssignment, r.eds_cluster_config?.service_name || r.name);
    case TypeUrl.ClusterLoadAssignment:
      if (!ready) emit({ kind: 'ready' });
      ready = true;
  }
});
call.on('error', (e: grpc.ServiceError) => {
  if (e.code !== grpc.status.CANCELLED) emit({ kind: 'error', message: `ADS stream: ${e.message}` });
});
follow(TypeUrl.Listener, service);

/** Sorted ports of every endpoint in a ClusterLoadAssignment. */
function ports(cla: Decoded): number[] {
  return (cla.endpoints ?? [])
    .flatMap((l: Decoded) => l.lb_endpoints ?? [])
    .map((e: Decoded) => e.endpoint?.address?.socket_address?.port_value as number)
    .sort((a: number, b: number) => a - b);
}

// --- control over stdin -----------------------------------------------------------------------------
for await (const line of createInterface({ input: process.stdin })) {
  const msg = JSON.parse(line) as { kind: string; t0: number };
  if (msg.kind === 'ping') emit({ kind: 'pong', t0: msg.t0, t1: now() });
}
emit({ kind: 'summary', responses });
call.cancel();
client.close();
await watcher.cancel();
etcd.close();
