/** gRPC-style status codes, the one error vocabulary of Switchyard. */
export const Code = {
  InvalidArgument: 'INVALID_ARGUMENT',
  NotFound: 'NOT_FOUND',
  FailedPrecondition: 'FAILED_PRECONDITION',
  Unavailable: 'UNAVAILABLE',
  Internal: 'INTERNAL',
} as const;
export type Code = (typeof Code)[keyof typeof Code];

export class SwitchyardError extends Error {
  override readonly name = 'SwitchyardError';
  constructor(
    readonly code: Code,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export const errorMessage = (e: unknown): string => (e instanceof Error ? e.message : String(e));
