import { z } from 'zod';
import type { Instance, Locality } from '../../catalog/model.ts';
import { NO_LOCALITY } from '../../catalog/model.ts';
import { err, ok, type Result } from '../../lib/result.ts';

export const MAX_WEIGHT = 1_000_000;
/** Envoy's limit on LocalityLbEndpoints.priority. */
export const MAX_PRIORITY = 128;

const intIn = (min: number, max: number) =>
  z.unknown().refine((v) => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max, {
    error: (issue) => `expected an integer from ${min} to ${max}, got ${JSON.stringify(issue.input)}`,
  }) as unknown as z.ZodType<number>;
const text = z.string({ error: (issue) => `expected a string, got ${JSON.stringify(issue.input)}` });

/** Switchyard's own registration value; unknown fields are ignored so registrants can add their own. */
const schema = z.looseObject({
  weight: intIn(1, MAX_WEIGHT).optional(),
  region: text.optional(),
  zone: text.optional(),
  sub_zone: text.optional(),
  priority: intIn(0, MAX_PRIORITY).optional(),
  version: text.optional(),
  tags: z.record(z.string(), text, { error: 'expected an object of string values' }).optional(),
  draining: z.boolean({ error: (issue) => `expected true or false, got ${JSON.stringify(issue.input)}` }).optional(),
  metadata: z.unknown().optional(),
});

/** The optional fields of an instance a registration value may set. */
export type InstanceFields = Pick<Instance, 'weight' | 'locality' | 'priority' | 'version' | 'tags' | 'draining'>;

export const DEFAULT_FIELDS: InstanceFields = { weight: 1, locality: NO_LOCALITY, priority: 0, version: '', tags: {}, draining: false };

/** Reads a parsed JSON value as Switchyard's registration fields; errors name the field. */
export function readInstanceFields(value: unknown): Result<InstanceFields> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return err('value must be a JSON object');
  const r = schema.safeParse(value);
  if (!r.success) return err(...r.error.issues.map((i) => `${i.path.join('.') || 'value'}: ${i.message}`));
  const v = r.data;
  const locality: Locality =
    v.region || v.zone || v.sub_zone ? { region: v.region ?? '', zone: v.zone ?? '', subZone: v.sub_zone ?? '' } : NO_LOCALITY;
  return ok({
    weight: v.weight ?? 1,
    locality,
    priority: v.priority ?? 0,
    version: v.version ?? '',
    tags: v.tags ?? {},
    draining: v.draining ?? false,
  });
}
