import type { RuleObject, UnsupportedRule } from './types.ts';

/** Collects, while compiling one message type, the rules found on its fields that cannot be evaluated. */
export class Notes {
  readonly unsupported: UnsupportedRule[] = [];
  field = '';

  constructor(private readonly type: string) {}

  add(rule: string, reason: string): void {
    this.unsupported.push({ type: this.type, field: this.field, rule, reason });
  }

  /** Records every key of `rules` that is not one of `known` (a rule from a newer PGV, or a typo). */
  unknownKeys(base: string, rules: RuleObject, known: readonly string[]): void {
    for (const key of Object.keys(rules)) {
      if (!known.includes(key)) this.add(base + key, 'unknown rule for this kind');
    }
  }
}
