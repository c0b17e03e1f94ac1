/** One violated `(validate.rules)` / `(validate.required)` constraint. */
export interface ValidationError {
  /** Field path from the validated message, e.g. `endpoints[0].lb_endpoints[1].endpoint.address.socket_address.port_value`. */
  readonly path: string;
  /**
   * The rule as it is spelled after `(validate.rules).` in the .proto, e.g. `uint32.lte`,
   * `repeated.items.string.well_known_regex`, `map.keys.string.min_len`; `oneof.required` for a
   * oneof's `(validate.required)`. A two-sided reversed range names both bounds: `int32.lt|gt`.
   */
  readonly rule: string;
  /** What was expected and what was found, e.g. `value must be <= 65535, got 70000`. */
  readonly message: string;
}

/** A rule the validator found on a field but cannot evaluate (reported by `unsupportedRules`). */
export interface UnsupportedRule {
  readonly type: string;
  readonly field: string;
  readonly rule: string;
  readonly reason: string;
}

/** The nested object a field's `(validate.rules)` option parses to in protobufjs `parsedOptions`. */
export type RuleObject = { readonly [key: string]: unknown };
