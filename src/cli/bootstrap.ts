/**
 * `switchyard bootstrap`: the gRPC xDS bootstrap JSON for a client of this server.
 * @module
 */
import type { BootstrapConfig } from '../config/index.ts';
import { grpcBootstrap, type GrpcBootstrap, type GrpcLocality } from '../xds/grpc-bootstrap.ts';

export function bootstrapFor({ nodeId, server, cluster, zone, region }: BootstrapConfig): GrpcBootstrap {
  const locality: GrpcLocality = {
    ...(region !== undefined && { region }),
    ...(zone !== undefined && { zone }),
  };
  return grpcBootstrap({ serverUri: server, nodeId, locality, ...(cluster !== undefined && { cluster }) });
}

export function runBootstrap(config: BootstrapConfig): void {
  process.stdout.write(JSON.stringify(bootstrapFor(config), null, 2) + '\n');
}
