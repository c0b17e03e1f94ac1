import * as grpc from '@grpc/grpc-js';
import {
  ClientClosedError,
  Etcd3,
  EtcdAuthenticationFailedError,
  EtcdError,
  EtcdInvalidAuthTokenError,
  EtcdPermissionDeniedError,
  EtcdWatchStreamEnded,
  GRPCDeadlineExceededError,
  GRPCGenericError,
  GRPCOutOfRangeError,
  GRPCResourceExhastedError,
  GRPCUnauthenticatedError,
  GRPCUnavailableError,
  castGrpcError,
  type IOptions,
} from 'etcd3';
import { Code, SwitchyardError, errorMessage } from '../lib/errors.ts';
import { ETCD_CLIENT_DEFAULTS as D, etcdHosts, type EtcdClientOptions } from './etcd-options.ts';

export type { EtcdClientOptions } from './etcd-options.ts';

type WatchBackoff = NonNullable<NonNullable<IOptions['faultHandling']>['watchBackoff']>;

/** etcd's `WithRequireLeader`: streams to a member that lost its leader fail instead of going silent (etcd-notes §2.5). */
const requireLeader: grpc.Interceptor = (options, nextCall) =>
  new grpc.InterceptingCall(nextCall(options), {
    start(metadata, listener, next) {
      metadata.set('hasleader', 'true');
      next(metadata, listener);
    },
  });

/**
 * An `Etcd3` configured as etcd-notes §2.10 recommends. The caller owns it and must `close()` it;
 * sources built on it never close it.
 */
export function createEtcdClient({
  endpoints,
  username,
  password,
  tls,
  unaryTimeoutMs = D.unaryTimeoutMs,
  keepaliveTimeMs = D.keepaliveTimeMs,
  keepaliveTimeoutMs = D.keepaliveTimeoutMs,
  maxReceiveBytes = D.maxReceiveBytes,
  watchBackoffInitialMs = D.watchBackoffInitialMs,
  watchBackoffMaxMs = D.watchBackoffMaxMs,
}: EtcdClientOptions): Etcd3 {
  const hosts = etcdHosts({ endpoints, username, password });
  return new Etcd3({
    hosts,
    credentials: tls ? { rootCertificate: tls.ca, privateKey: tls.key, certChain: tls.cert } : undefined,
    auth: username !== undefined && password !== undefined ? { username, password } : undefined,
    grpcOptions: {
      // grpc-js defaults to 4 MiB: a big list fails and trips the circuit breaker (etcd-notes §2.8)
      'grpc.max_receive_message_length': maxReceiveBytes,
      // without keepalive a blackholed connection looks "connected" forever (etcd-notes §2.5)
      'grpc.keepalive_time_ms': keepaliveTimeMs,
      'grpc.keepalive_timeout_ms': keepaliveTimeoutMs,
    },
    defaultCallOptions: (ctx) => (ctx.isStream ? { interceptors: [requireLeader] } : { deadline: Date.now() + unaryTimeoutMs }),
    // default watch backoff grows to 30 s, so a watch could stay down that long after etcd is back (etcd-notes §2.10)
    faultHandling: { watchBackoff: jitteredBackoff(watchBackoffInitialMs, watchBackoffMaxMs) },
  });
}

/** etcd3 calls `next()` on the initial value for every fresh start, so this must be immutable. */
function jitteredBackoff(initialMs: number, maxMs: number, attempt = 0): WatchBackoff {
  const cap = Math.min(maxMs, initialMs * 2 ** attempt);
  return {
    duration: Math.round(cap / 2 + Math.random() * (cap / 2)),
    next: () => jitteredBackoff(initialMs, maxMs, attempt + 1),
  };
}

/** True for the watcher error etcd3 emits when its revision was compacted (empty cancel_reason, etcd-notes §2.3). */
export function isCompactionError(e: unknown): boolean {
  if (e instanceof GRPCOutOfRangeError) return true;
  const msg = errorMessage(e);
  return /compacted/i.test(msg) || /^Watcher canceled: ?$/.test(msg.trim());
}

/**
 * Translates an etcd3 error into a SwitchyardError whose message says what to do.
 * `doing` names the operation, e.g. `listing /services/`.
 */
export function toSwitchyardError(error: unknown, doing: string): SwitchyardError {
  if (error instanceof SwitchyardError) return error;
  // watch 'disconnected' errors reach us as raw grpc-js errors; etcd3 only casts those of unary calls
  const e = error instanceof Error ? castGrpcError(error) : error;
  const detail = isCompactionError(e) ? 'watch canceled by etcd (revision compacted)' : errorMessage(e);
  const make = (code: Code, advice: string) =>
    new SwitchyardError(code, `etcd error while ${doing}: ${detail}. ${advice}`, { cause: error });

  if (e instanceof EtcdAuthenticationFailedError) {
    return make(Code.FailedPrecondition, 'Check the etcd username and password');
  }
  if (e instanceof EtcdPermissionDeniedError || e instanceof GRPCUnauthenticatedError) {
    return make(Code.FailedPrecondition, 'Grant the etcd user read access to the watched prefix (etcdctl role grant-permission --prefix=true <role> read <prefix>)');
  }
  if (e instanceof EtcdInvalidAuthTokenError) {
    return make(Code.Unavailable, 'The auth token expired; Switchyard re-authenticates and re-lists automatically');
  }
  if (e instanceof GRPCResourceExhastedError) {
    return make(Code.FailedPrecondition, 'A response exceeded the receive limit: lower the list page size or raise the max receive message size');
  }
  if (e instanceof GRPCDeadlineExceededError) {
    return make(Code.Unavailable, 'etcd did not answer in time: check that the cluster is running and has a leader (etcdctl endpoint status)');
  }
  if (e instanceof ClientClosedError) {
    return make(Code.FailedPrecondition, 'The etcd client was closed while still in use: stop sources before closing their client');
  }
  if (isCompactionError(e)) {
    return make(Code.Unavailable, 'Switchyard re-lists and watches again; nothing to do unless this repeats often');
  }
  if (e instanceof GRPCUnavailableError || e instanceof EtcdWatchStreamEnded || isBrokenCircuit(e)) {
    return make(Code.Unavailable, 'etcd is unreachable: check that it runs and that the endpoints are right; the last known state keeps being served');
  }
  if (e instanceof EtcdError || e instanceof GRPCGenericError) {
    return make(Code.Unavailable, 'Check the etcd server logs and cluster health (etcdctl endpoint health)');
  }
  return make(Code.Internal, 'This is unexpected; please report it with the log lines around it');
}

// cockatiel's BrokenCircuitError is not re-exported by etcd3 and cockatiel is not our direct dependency.
const isBrokenCircuit = (e: unknown): boolean =>
  typeof e === 'object' && e !== null && (e as { isBrokenCircuitError?: unknown }).isBrokenCircuitError === true;
