import { expect, test } from 'bun:test';
import { bootstrapFor } from './bootstrap.ts';

const base = { command: 'bootstrap', nodeId: 'n1', server: '127.0.0.1:18000', cluster: undefined, zone: undefined, region: undefined } as const;

test('minimal bootstrap: node id, empty locality, xds_v3', () => {
  expect(bootstrapFor(base)).toEqual({
    xds_servers: [{ server_uri: '127.0.0.1:18000', channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
    node: { id: 'n1', locality: {} },
    server_listener_resource_name_template: 'grpc/server?xds.resource.listening_address=%s',
    client_default_listener_resource_name_template: '%s',
  });
});

test('cluster, zone and region go into the node', () => {
  expect(bootstrapFor({ ...base, cluster: 'web', zone: 'z1', region: 'r1' }).node).toEqual({
    id: 'n1',
    cluster: 'web',
    locality: { region: 'r1', zone: 'z1' },
  });
});
