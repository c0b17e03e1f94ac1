/**
 * etcd3 errors as the registrar sees them: worth retrying (etcd unreachable, no leader) or not (credentials,
 * permissions, a closed client), with a message that says what to do.
 * @module
 */
import { ClientClosedError, EtcdAuthenticationFailedError, EtcdLeaseInvalidError, EtcdPermissionDeniedError, GRPCUnauthenticatedError } from 'etcd3';
import { Code, SwitchyardError, errorMessage } from '../lib/errors.ts';
import { toSwitchyardError } from '../registry/etcd-client.ts';

export interface Classified {
  readonly retryable: boolean;
  readonly error: SwitchyardError;
}

/** `doing` names the operation, e.g. `registering /services/greeter/10.0.0.7:50051`. */
export function classify(e: unknown, doing: string): Classified {
  if (e instanceof SwitchyardError) return { retryable: e.code === Code.Unavailable, error: e };
  const make = (code: Code, advice: string) =>
    new SwitchyardError(code, `etcd error while ${doing}: ${errorMessage(e)}. ${advice}`, { cause: e });
  // The lease is gone; the registrar grants a new one (etcd3 already emitted 'lost' for it).
  if (e instanceof EtcdLeaseInvalidError) return { retryable: true, error: make(Code.Unavailable, 'A new lease is granted') };
  if (e instanceof EtcdAuthenticationFailedError) {
    return { retryable: false, error: make(Code.FailedPrecondition, 'Check the etcd username and password') };
  }
  if (e instanceof EtcdPermissionDeniedError || e instanceof GRPCUnauthenticatedError) {
    return {
      retryable: false,
      error: make(
        Code.FailedPrecondition,
        'Grant the etcd user write access to the registration prefix (etcdctl role grant-permission --prefix=true <role> readwrite <prefix>)',
      ),
    };
  }
  if (e instanceof ClientClosedError) {
    return { retryable: false, error: make(Code.FailedPrecondition, 'The etcd client was closed while the registrar still used it') };
  }
  const translated = toSwitchyardError(e, doing);
  return { retryable: translated.code === Code.Unavailable, error: translated };
}
