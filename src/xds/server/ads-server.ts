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
import { createGrpcStreamServer, GrpcStatus, MESSAGE_PREFIX_BYTES, type BidiHandler } from './grpc-stream-server.ts';
import type { ServerHooks } from './hooks.ts';
import { InterestIndex } from './interest.ts';
import type { AdsSession, SessionDeps, SnapshotObserver } from './session.ts';
import { SharedResponses } from './shared-responses.ts';
import { SotwSession } from './sotw.ts';

const ADS_SERVICE = '/envoy.service.discovery.v3.AggregatedDiscoveryService/';
const MAX_REQUEST_BYTES = 16 * 1024 * 1024;

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
  const sessions = new Map<number, AnySession>();
  let nextStreamId = 0;

  const interest = new InterestIndex<SnapshotObserver>();
  const shared = new SharedResponses();
  const unsubscribe = source.subscribe((_snapshot, changes) => {
    for (const [s, part] of interest.affected(changes)) s.onSnapshot(part);
  });

  /** Requests are decoded by hand (codec.ts); responses are bytes the session framed around resources encoded once. */
  function serve<Req extends DiscoveryRequest | DeltaDiscoveryRequest>(
    decode: (bytes: Uint8Array) => Req,
    make: (deps: SessionDeps) => AdsSession<Req> & AnySession,
  ): BidiHandler {
    return (call) => {
      const streamId = ++nextStreamId;
      let closed = false;
      const fail = (code: GrpcStatus, details: string) => {
        if (closed) return;
        logger.warn('closing ADS stream', { streamId, details });
        call.finish(code, details);
        close(`error: ${details}`);
      };
      const session = make({
        streamId,
        snapshot: () => source.current(),
        sink: { headroom: MESSAGE_PREFIX_BYTES, send: (bytes) => call.send(bytes), fail },
        hooks,
        controlPlaneId,
        maxResponseBytes,
        interest,
        shared,
      });
      sessions.set(streamId, session);
      hooks.emit('streamOpened', { streamId, node: undefined, peer: call.peer, protocol: session.protocol });

      function close(reason: string) {
        if (closed) return;
        closed = true;
        sessions.delete(streamId);
        session.close();
        hooks.emit('streamClosed', { streamId, node: session.nodeInfo, reason });
      }
      return {
        onMessage(bytes) {
          let req: Req;
          try {
            req = decode(bytes);
          } catch (e) {
            return fail(GrpcStatus.INTERNAL, `switchyard: cannot decode the request: ${errorMessage(e)}`);
          }
          try {
            session.onRequest(req);
          } catch (e) {
            logger.error('ADS request failed', { streamId, error: errorMessage(e) });
            fail(GrpcStatus.INTERNAL, `switchyard: ${errorMessage(e)}`);
          }
        },
        // gRPC half-closes ADS when it has no subscriptions left (xds-notes §1.6): finish with OK.
        onHalfClose() {
          close('client half-closed');
          call.finish(GrpcStatus.OK);
        },
        onClose: close,
      };
    };
  }

  const server = createGrpcStreamServer({
    methods: new Map([
      [`${ADS_SERVICE}StreamAggregatedResources`, serve(decodeDiscoveryRequest, (deps) => new SotwSession(deps))],
      [`${ADS_SERVICE}DeltaAggregatedResources`, serve(decodeDeltaDiscoveryRequest, (deps) => new DeltaSession(deps))],
    ]),
    maxReceiveBytes: MAX_REQUEST_BYTES,
    onSessionError: (e) => logger.debug('xDS connection error', { error: errorMessage(e) }),
  });

  return {
    listen: (address) => server.listen(address),
    sessions: () => sessions.values(),
    async stop() {
      unsubscribe();
      // ADS streams never end on their own; clients reconnect (to this or another replica) with backoff.
      await server.stop();
    },
  };
}
