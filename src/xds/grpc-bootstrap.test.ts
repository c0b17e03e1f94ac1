import { describe, expect, test } from 'bun:test';
// grpc-js-xds's own parser: proves the output is what the real client accepts, not just what we expect.
import { validateBootstrapConfig } from '@grpc/grpc-js-xds/build/src/xds-bootstrap.js';
import { grpcBootstrap } from './grpc-bootstrap.ts';

describe('grpcBootstrap', () => {
  test('minimal: insecure creds, xds_v3, empty locality, default templates', () => {
    expect(grpcBootstrap({ serverUri: '127.0.0.1:18000', nodeId: 'client-1' })).toEqual({
      xds_servers: [
        { server_uri: '127.0.0.1:18000', channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] },
      ],
      node: { id: 'client-1', locality: {} },
      server_listener_resource_name_template: 'grpc/server?xds.resource.listening_address=%s',
      client_default_listener_resource_name_template: '%s',
    });
  });

  test('all options', () => {
    expect(
      grpcBootstrap({
        serverUri: 'switchyard:18000',
        nodeId: 'user-client-1',
        cluster: 'user-client',
        locality: { region: 'local', zone: 'z1', sub_zone: '' },
        metadata: { app: 'user-client', replicas: 2, tags: ['a'], extra: { on: true, none: null } },
        ignoreResourceDeletion: true,
      }),
    ).toEqual({
      xds_servers: [
        {
          server_uri: 'switchyard:18000',
          channel_creds: [{ type: 'insecure' }],
          server_features: ['xds_v3', 'ignore_resource_deletion'],
        },
      ],
      node: {
        id: 'user-client-1',
        cluster: 'user-client',
        locality: { region: 'local', zone: 'z1', sub_zone: '' },
        metadata: { app: 'user-client', replicas: 2, tags: ['a'], extra: { on: true, none: null } },
      },
      server_listener_resource_name_template: 'grpc/server?xds.resource.listening_address=%s',
      client_default_listener_resource_name_template: '%s',
    });
  });

  test('does not alias caller objects', () => {
    const locality = { zone: 'z1' };
    const metadata = { app: 'a' };
    const b = grpcBootstrap({ serverUri: 'x:1', nodeId: 'n', locality, metadata });
    expect(b.node.locality).not.toBe(locality);
    expect(b.node.metadata).not.toBe(metadata);
  });

  test('round-trips through JSON and is accepted by grpc-js-xds', () => {
    const b = grpcBootstrap({
      serverUri: '127.0.0.1:18000',
      nodeId: 'client-1',
      cluster: 'c',
      locality: { zone: 'z1' },
      metadata: { app: 'a', n: 1 },
      ignoreResourceDeletion: true,
    });
    const parsed = validateBootstrapConfig(JSON.parse(JSON.stringify(b)));
    expect(parsed.xdsServers[0]?.server_uri).toBe('127.0.0.1:18000');
    expect(parsed.xdsServers[0]?.server_features).toEqual(['xds_v3', 'ignore_resource_deletion']);
    expect(parsed.node.id).toBe('client-1');
    expect(parsed.node.locality).toEqual({ zone: 'z1' });
    expect(parsed.clientDefaultListenerResourceNameTemplate).toBe('%s');
    expect(validateBootstrapConfig(grpcBootstrap({ serverUri: 'x:1', nodeId: 'n' })).node.locality).toEqual({});
  });
});
