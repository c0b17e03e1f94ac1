/** A value or the reasons there is none. Validation returns this; only bugs throw. */
export type Result<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly errors: readonly string[] };

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const err = <T = never>(...errors: string[]): Result<T> => ({ ok: false, errors });
