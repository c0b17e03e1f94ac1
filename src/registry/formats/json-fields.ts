import { err, ok, type Result } from '../../lib/result.ts';
import { MAX_WEIGHT } from './switchyard-value.ts';

/** Readers for the JSON values of foreign formats; errors name the field like the Switchyard value's do. */

export type JsonObject = Readonly<Record<string, unknown>>;

export const isJsonObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A value shown in a reason: JSON, cut to a readable length. */
export function show(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 80 ? s.slice(0, 77) + '...' : s;
}

export function parseJsonObject(value: string): Result<JsonObject> {
  const text = value.trim();
  if (text === '') return err('value is empty; expected a JSON object');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    return err(`value is not valid JSON: ${(e as Error).message}`);
  }
  return isJsonObject(parsed) ? ok(parsed) : err(`value must be a JSON object, got ${show(parsed)}`);
}

/** Own properties only: a JSON key must never find something on Object.prototype. */
export const field = (o: JsonObject, name: string): unknown => (Object.hasOwn(o, name) ? o[name] : undefined);

/** Go's encoding/json leaves a field at its zero value for both absent and null, so both mean "not set". */
export function optionalString(o: JsonObject, name: string, path = name): Result<string | undefined> {
  const v = field(o, name);
  if (v === undefined || v === null) return ok(undefined);
  return typeof v === 'string' ? ok(v) : err(`${path}: expected a string, got ${show(v)}`);
}

/** A Go `map[string]string`: null or absent is empty; every value must be a string. */
export function stringMap(v: unknown, path: string): Result<Record<string, string>> {
  if (v === undefined || v === null) return ok({});
  if (!isJsonObject(v)) return err(`${path}: expected an object of string values, got ${show(v)}`);
  const problems = Object.entries(v)
    .filter(([, x]) => typeof x !== 'string')
    .map(([k, x]) => `${path}.${k}: expected a string, got ${show(x)}`);
  // fromEntries defines own properties, so a "__proto__" label stays a label.
  return problems.length > 0 ? err(...problems) : ok(Object.fromEntries(Object.entries(v)) as Record<string, string>);
}

export const isWeight = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= MAX_WEIGHT;

export const weightProblem = (path: string, got: unknown): string =>
  `${path}: expected an integer from 1 to ${MAX_WEIGHT}, got ${show(got)}`;

/** A weight written as decimal digits (kratos metadata, rpcx query); undefined when it is not one. */
export function parseWeightText(text: string): number | undefined {
  if (!/^[0-9]{1,7}$/.test(text)) return undefined;
  const n = Number(text);
  return isWeight(n) ? n : undefined;
}
