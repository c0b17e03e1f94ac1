import * as grpc from '@grpc/grpc-js';
import { errorMessage } from '../../lib/errors.ts';
import type { Logger } from '../../lib/logger.ts';
import type { SnapshotSource } from '../snapshot/store.ts';
import {
  decodeDeltaDiscoveryRequest,
  decodeDiscoveryRequest,
  type DeltaDiscoveryRequest,
  type DiscoveryRequest,
} from './codec.ts';
import { DeltaSession } from './delta.ts';
import type { ServerHooks } from './hooks.ts';
import { InterestIndex } from './interest.ts';
import type { AdsSession, SessionDeps, SnapshotObserver } from './session.ts';
import { SotwSession } from './sotw.ts';

const ADS_SERVICE = '/envoy.service.discovery.v3.AggregatedDiscoveryService/';

const bidi = <Req>(method: string, decode: (b: Buffer) => Req) => ({
  path: `${ADS_SERVICE}${method}`,
  requestStream: true,
  responseStream: true,
  requestSerialize: (): Buffer => {
    throw new Error('the ADS server never serializes requests');
  },
  requestDeserialize: decode,
  responseSerialize: (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.byteLength),
  responseDeserialize: (b: Buffer): Uint8Array => b,
});

/**
 * The ADS service with hand-written (de)serializers: requests are decoded with protobufjs, responses
 * are bytes already framed by the session around resources encoded once per change.
 */
const adsDefinition = {
  StreamAggregatedResources: bidi('StreamAggregatedResources', decodeDiscoveryRequest),
  DeltaAggregatedResources: bidi('DeltaAggregatedResources', decodeDeltaDiscoveryRequest),
} satisfies grpc.ServiceDefinition;

export interface XdsServerOptions {
  source: SnapshotSource;
  hooks: ServerHooks;
  logger: Logger;
  /** Sent as `control_plane.identifier` on every response. */
  controlPlaneId: string;
  maxResponseBytes?: number;
}

export type AnySession = SotwSession | DeltaSession;

export interface XdsServer {
  /** Binds `host:port` (port 0 picks one) and returns the bound `host:port`. */
  listen(address: string): Promise<string>;
  /** Open streams, for admin views. */
  sessions(): Iterable<AnySession>;
  /** Ends every stream and closes the port. */
  stop(): Promise<void>;
}

export function createXdsServer({ source, hooks, logger, controlPlaneId, maxResponseBytes }: XdsServerOptions): XdsServer {
  // channelz stays on: with it off, grpc-js's forceShutdown() does not end open streams
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 16 * 1024 * 1024 });
  const sessions = new Map<number, AnySession>();
  let nextStreamId = 0;

  const interest = new InterestIndex<SnapshotObserver>();
  const unsubscribe = source.subscribe((_snapshot, changes) => {
    for (const [s, part] of interest.affected(changes)) s.onSnapshot(part);
  });

  function serve<Req extends DiscoveryRequest | DeltaDiscoveryRequest>(
    make: (deps: SessionDeps) => AdsSession<Req> & AnySession,
  ) {
    return (call: grpc.ServerDuplexStream<Req, Uint8Array>): void => {
      const streamId = ++nextStreamId;
      let closed = false;
      const session = make({
        streamId,
        snapshot: () => source.current(),
        sink: {
          send: (bytes) => {
            if (!closed) call.write(bytes);
          },
          fail: (code, details) => {
            if (closed) return;
            logger.warn('closing ADS stream', { streamId, details });
            call.emit('error', { code, details });
          },
        },
        hooks,
        controlPlaneId,
        maxResponseBytes,
        interest,
      });
      sessions.set(streamId, session);
      hooks.emit('streamOpened', { streamId, node: undefined, peer: call.getPeer(), protocol: session.protocol });

      const close = (reason: string) => {
        if (closed) return;
        closed = true;
        sessions.delete(streamId);
        session.close();
        hooks.emit('streamClosed', { streamId, node: session.nodeInfo, reason });
      };
      call.on('data', (req: Req) => {
        try {
          session.onRequest(req);
        } catch (e) {
          logger.error('ADS request failed', { streamId, error: errorMessage(e) });
          call.emit('error', { code: grpc.status.INTERNAL, details: `switchyard: ${errorMessage(e)}` });
        }
      });
      // gRPC half-closes ADS when it has no subscriptions left (xds-notes §1.6): finish with OK.
      call.on('end', () => {
        close('client half-closed');
        call.end();
      });
      call.on('cancelled', () => close('cancelled'));
      call.on('error', (e) => close(`error: ${errorMessage(e)}`));
      call.on('close', () => close('closed'));
    };
  }

  server.addService(adsDefinition, {
    StreamAggregatedResources: serve<DiscoveryRequest>((deps) => new SotwSession(deps)),
    DeltaAggregatedResources: serve<DeltaDiscoveryRequest>((deps) => new DeltaSession(deps)),
  });

  return {
    listen: (address) =>
      new Promise((resolve, reject) => {
        server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (e, port) => {
          if (e) reject(new Error(`cannot listen for xDS on ${address}: ${e.message}`));
          else resolve(`${address.slice(0, address.lastIndexOf(':'))}:${port}`);
        });
      }),
    sessions: () => sessions.values(),
    async stop() {
      unsubscribe();
      // ADS streams never end on their own; clients reconnect (to this or another replica) with backoff.
      server.forceShutdown();
    },
  };
}
