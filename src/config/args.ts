/**
 * Splits the arguments after the command into flag values: `--flag value`, `--flag=value`, boolean `--flag`,
 * and repeatable flags (`--tag a=1 --tag b=2`).
 * @module
 */
import { err, ok, type Result } from '../lib/result.ts';

export type FlagKind = 'string' | 'boolean' | 'repeated';
export type FlagSpecs = Readonly<Record<string, FlagKind>>;

export interface ParsedArgs {
  /** Raw values by flag name (without `--`); booleans given bare are `'true'`. The last occurrence wins. */
  readonly flags: ReadonlyMap<string, string>;
  /** Every value of each repeatable flag, in order. */
  readonly lists: ReadonlyMap<string, readonly string[]>;
  readonly help: boolean;
}

export function parseArgs(args: readonly string[], specs: FlagSpecs, command: string): Result<ParsedArgs> {
  const flags = new Map<string, string>();
  const lists = new Map<string, string[]>();
  const set = (name: string, kind: FlagKind, value: string) => {
    if (kind !== 'repeated') return void flags.set(name, value);
    const list = lists.get(name);
    if (list) list.push(value);
    else lists.set(name, [value]);
  };
  const errors: string[] = [];
  let help = false;
  const known = Object.keys(specs)
    .map((f) => `--${f}`)
    .join(', ');
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--help' || arg === '-h') {
      help = true;
      continue;
    }
    if (!arg.startsWith('--')) {
      errors.push(`unexpected argument "${arg}" for "${command}": flags are written --name value or --name=value`);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    const kind = specs[name];
    if (kind === undefined) {
      errors.push(`unknown flag --${name} for "${command}"; expected one of ${known || '(none)'}`);
      // Its value, if it had one, is not worth a second error.
      if (eq === -1 && args[i + 1] !== undefined && !args[i + 1]!.startsWith('-')) i++;
      continue;
    }
    if (eq !== -1) {
      set(name, kind, arg.slice(eq + 1));
    } else if (kind === 'boolean') {
      flags.set(name, 'true');
    } else {
      const next = args[i + 1];
      if (next === undefined || next.startsWith('--')) {
        errors.push(`--${name}: missing value; write --${name} <value> or --${name}=<value>`);
        continue;
      }
      set(name, kind, next);
      i++;
    }
  }
  // With --help the user asked for usage, so flag mistakes are not worth reporting.
  if (errors.length > 0 && !help) return err(...errors);
  return ok({ flags, lists, help });
}
