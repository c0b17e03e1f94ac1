import type { ValidationError } from './types.ts';

/**
 * One log line naming the resource, and for each error the field path and the rule, e.g.
 * `Cluster "users" failed validation (1 error): name [string.min_len]: value length must be at least 1 characters, got 0`.
 */
export function formatValidationErrors(resourceName: string, typeUrl: string, errors: readonly ValidationError[]): string {
  const type = typeUrl.slice(typeUrl.lastIndexOf('.') + 1);
  const n = errors.length;
  const details = errors.map((e) => `${e.path === '' ? '(root)' : e.path} [${e.rule}]: ${e.message}`).join('; ');
  return `${type} ${JSON.stringify(resourceName)} failed validation (${n} error${n === 1 ? '' : 's'}): ${details}`;
}
