import type protobuf from 'protobufjs';
import type { ValidationError } from './types.ts';

/**
 * Mutable state of one validation walk. The path is kept as a stack of segments and only joined into
 * a string when an error is reported, so a clean walk allocates almost nothing.
 * Segments: a string is a field name (`.name`), a number an index (`[3]`), an object a map key.
 */
export class WalkContext {
  readonly errors: ValidationError[] = [];
  private readonly segments: (string | number | { key: string })[] = [];

  constructor(
    readonly resolveTypeUrl: (typeUrl: string) => protobuf.Type | null,
    private readonly maxErrors: number,
  ) {}

  push(segment: string | number | { key: string }): void {
    this.segments.push(segment);
  }

  pop(): void {
    this.segments.pop();
  }

  report(rule: string, message: string): void {
    if (this.errors.length < this.maxErrors) this.errors.push({ path: this.path(), rule, message });
  }

  path(): string {
    let out = '';
    for (const s of this.segments) {
      if (typeof s === 'number') out += `[${s}]`;
      else if (typeof s === 'string') out += out === '' ? s : `.${s}`;
      else out += `[${JSON.stringify(s.key)}]`;
    }
    return out;
  }
}

/** A compiled check of one (present or defaulted) value. */
export type Check = (value: unknown, ctx: WalkContext) => void;

/** Short, log-safe rendering of a value inside an error message. */
export function show(value: unknown): string {
  if (typeof value === 'string') {
    const s = value.length > 80 ? `${value.slice(0, 77)}...` : value;
    return JSON.stringify(s);
  }
  if (typeof value === 'bigint') return value.toString();
  return String(value);
}
