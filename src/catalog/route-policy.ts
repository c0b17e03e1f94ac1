/**
 * Route policies: how calls to one service are routed, written as JSON under `/switchyard/routes/<service>`.
 *
 * ```json
 * {
 *   "subsets": {
 *     "v1": { "version": "v1" },
 *     "v2": { "version": "v2" },
 *     "canary": { "tags": { "track": "canary" } }
 *   },
 *   "routes": [
 *     { "match": { "headers": [{ "name": "x-canary", "exact": "1" }] }, "to": "canary", "timeout": "2s" },
 *     { "match": { "path_prefix": "/helloworld.Greeter/" },
 *       "split": { "v1": 90, "v2": 10 },
 *       "retry": { "on": ["unavailable"], "retries": 3, "backoff": { "base": "25ms", "max": "250ms" } } }
 *   ]
 * }
 * ```
 *
 * - `subsets` (optional, 1–50): name → selector. Names are 1–63 of `[a-z0-9._-]`, starting and ending with a
 *   letter or digit (they become the cluster `<service>/<name>`). A selector has `version` and/or `tags`; an
 *   instance belongs to the subset when all of them match.
 * - `routes` (1–100), tried in order, first match wins:
 *   - `match` (optional; without it the route takes every call): `path_prefix` (a gRPC method prefix such as
 *     `/pkg.Service/` or `/pkg.Service/Method`) and/or `headers`, each `{ name, exact }`, `{ name, prefix }` or
 *     `{ name, present: true }`; all must match. Header names are lowercase gRPC metadata keys, not `grpc-*`,
 *     not `*-bin`, not pseudo-headers.
 *   - where to: `to` (a subset, or `"*"` / left out for the whole service) or `split` (subset or `"*"` →
 *     integer weight 1–100, weights sum to 100), not both.
 *   - `timeout` (optional): `"500ms"`, `"2s"`, `"1.5s"`, `"1m"`; > 0, at most 1h, whole milliseconds.
 *   - `retry` (optional): `on` (non-empty, from cancelled, deadline-exceeded, internal, resource-exhausted,
 *     unavailable), `retries` (retries after the first attempt, 1–4, default 1: gRPC clients make at most
 *     5 attempts, so a larger number would behave differently in Envoy), `backoff` `{ base, max? }` with
 *     max ≥ base (defaults: base 25 ms, max 10 × base).
 * - A route after one without `match` could never be taken and is rejected. When no route is a catch-all,
 *   one to the whole service (no timeout, no retry) is appended, so the parsed policy always ends with one.
 * - Unknown fields are rejected: a misspelt `timeout` must not be silently ignored.
 * @module
 */
import { z } from 'zod';
import { err, ok, type Result } from '../lib/result.ts';

/** Target meaning "every instance of the service", in `to` and as a `split` key. */
export const WHOLE_SERVICE = '*';
export const MAX_ROUTES = 100;
export const MAX_SUBSETS = 50;
/** gRPC clients cap attempts at 5 (grpc-js `DEFAULT_MAX_ATTEMPTS_LIMIT`), i.e. 4 retries. */
export const MAX_RETRIES = 4;
export const MAX_DURATION_MS = 3_600_000;
/** Status codes gRPC retries on (A44); Envoy knows the same names as gRPC retry conditions. */
export const RETRY_ON = ['cancelled', 'deadline-exceeded', 'internal', 'resource-exhausted', 'unavailable'] as const;
export type RetryOn = (typeof RETRY_ON)[number];

export interface SubsetDefinition {
  readonly name: string;
  /** Instances must have this version (absent: any version). */
  readonly version?: string;
  /** Instances must carry every one of these tags (may be empty when `version` is set). */
  readonly tags: Readonly<Record<string, string>>;
}

export type HeaderMatch =
  | { readonly name: string; readonly kind: 'exact' | 'prefix'; readonly value: string }
  | { readonly name: string; readonly kind: 'present' };

export interface RouteMatch {
  /** Path prefix; '/' when the policy gave none. */
  readonly pathPrefix: string;
  /** All must match; may be empty when only the path is matched. */
  readonly headers: readonly HeaderMatch[];
}

/** A destination: a subset name or WHOLE_SERVICE, with its share of calls (100 when it is the only one). */
export interface RouteTarget {
  readonly to: string;
  readonly weight: number;
}

export interface RetryPolicy {
  readonly on: readonly RetryOn[];
  readonly retries: number;
  readonly backoff?: { readonly baseMs: number; readonly maxMs?: number };
}

export interface PolicyRoute {
  /** Absent: the route takes every call. */
  readonly match?: RouteMatch;
  /** One or more targets, weights summing to 100. */
  readonly targets: readonly RouteTarget[];
  readonly timeoutMs?: number;
  readonly retry?: RetryPolicy;
}

export interface RoutePolicy {
  /** In the order the policy lists them. */
  readonly subsets: readonly SubsetDefinition[];
  /** Never empty; the last route has no `match`. */
  readonly routes: readonly PolicyRoute[];
}

/** The catch-all appended when a policy has none: whole service, no timeout, no retry. */
export const DEFAULT_ROUTE: PolicyRoute = { targets: [{ to: WHOLE_SERVICE, weight: 100 }] };

/** Equal policies build equal routes; used to skip pushes on identical re-puts. */
export const samePolicy = (a: RoutePolicy | undefined, b: RoutePolicy | undefined): boolean =>
  a === b || (a !== undefined && b !== undefined && JSON.stringify(a) === JSON.stringify(b));

// ---- schema: shapes, types, value formats -------------------------------------------------------

const got = (v: unknown) => (v === undefined ? 'nothing' : JSON.stringify(v) ?? String(v));

/** A strict object whose unknown fields are reported as such, listing the known ones. */
const strict = <S extends z.ZodRawShape>(shape: S) =>
  z.strictObject(shape, {
    error: (iss) =>
      iss.code === 'unrecognized_keys'
        ? `unknown field; known fields: ${Object.keys(shape).join(', ')}`
        : iss.input === undefined
          ? 'required'
          : `expected an object, got ${got(iss.input)}`,
  });

const intIn = (min: number, max: number) =>
  z.custom<number>((v) => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max, {
    error: (iss) => `expected an integer from ${min} to ${max}, got ${got(iss.input)}`,
  });

const str = (what = 'a string') =>
  z.string({ error: (iss) => (iss.input === undefined ? 'required' : `expected ${what}, got ${got(iss.input)}`) });

const DURATION = /^(\d{1,10})(?:\.(\d{1,9}))?(ms|s|m|h)$/;
const UNIT_MS = { ms: 1n, s: 1000n, m: 60_000n, h: 3_600_000n } as const;

/** `"1.5s"` → 1500 (ms), or why the text is not a usable duration. */
export function parseDuration(text: string): Result<number> {
  const m = DURATION.exec(text);
  if (!m) return err(`"${text}" is not a duration; write a number with ms, s, m or h, such as "500ms", "2s", "1.5s"`);
  const fraction = m[2] ?? '';
  const scaled = BigInt(m[1]! + fraction) * UNIT_MS[m[3] as keyof typeof UNIT_MS];
  const divisor = 10n ** BigInt(fraction.length);
  if (scaled % divisor !== 0n) return err(`"${text}" is finer than a millisecond`);
  const ms = scaled / divisor;
  if (ms === 0n) return err(`must be greater than 0, got "${text}"`);
  if (ms > BigInt(MAX_DURATION_MS)) return err(`must be at most 1h, got "${text}"`);
  return ok(Number(ms));
}

/** 1500 → "1500ms", 2000 → "2s", 90000 → "90s", 120000 → "2m": the largest unit that keeps it whole. */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) if (ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}

const duration = str('a duration such as "2s" or "500ms"').transform((text, ctx) => {
  const r = parseDuration(text);
  if (r.ok) return r.value;
  for (const message of r.errors) ctx.addIssue({ code: 'custom', message, input: text });
  return z.NEVER;
});

const HEADER_NAME = /^[a-z0-9_.-]+$/;
/** Printable ASCII, no surrounding spaces (HTTP strips them, so such a value never matches). */
const HEADER_VALUE = /^(?:[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?)?$/;

function headerNameProblem(name: string): string | undefined {
  const q = JSON.stringify(name);
  if (name.startsWith(':')) return `${q} is a pseudo-header; only regular headers can be matched`;
  if (!HEADER_NAME.test(name)) return `${q} is not a valid header name; use lowercase letters, digits, '-', '_' and '.'`;
  if (name.startsWith('grpc-')) return `${q}: "grpc-" headers are reserved by gRPC and cannot be matched`;
  if (name.endsWith('-bin')) return `${q}: binary ("-bin") headers never match in gRPC clients`;
  return undefined;
}

const headerValue = (what: string) =>
  str().refine((v) => HEADER_VALUE.test(v), { error: `${what} must be printable ASCII without leading or trailing spaces` });

const HEADER_KINDS = ['exact', 'prefix', 'present'] as const;

const headerSchema = strict({
  name: str().refine((n) => !headerNameProblem(n), { error: (iss) => headerNameProblem(String(iss.input))! }),
  exact: headerValue('value').optional(),
  prefix: headerValue('prefix').refine((v) => v.length > 0, { error: 'must not be empty; use "present": true to match any value' }).optional(),
  present: z.literal(true, { error: 'must be true (matching a missing header is not supported)' }).optional(),
})
  .superRefine((h, ctx) => {
    const kinds = HEADER_KINDS.filter((k) => h[k] !== undefined);
    if (kinds.length !== 1) {
      const found = kinds.length === 0 ? 'none' : kinds.map((k) => `"${k}"`).join(', ');
      ctx.addIssue({ code: 'custom', message: `set exactly one of "exact", "prefix", "present"; got ${found}`, input: h });
    }
  })
  .transform((h): HeaderMatch => {
    if (h.exact !== undefined) return { name: h.name, kind: 'exact', value: h.exact };
    if (h.prefix !== undefined) return { name: h.name, kind: 'prefix', value: h.prefix };
    return { name: h.name, kind: 'present' };
  });

const PATH_PREFIX = /^\/[\x21-\x7e]*$/;
const pathPrefix = str().superRefine((p, ctx) => {
  if (!PATH_PREFIX.test(p) || /[?#]/.test(p)) {
    ctx.addIssue({ code: 'custom', message: 'must start with "/" and be printable ASCII without spaces, "?" or "#"', input: p });
  } else if (p.split('/').length > 3) {
    ctx.addIssue({ code: 'custom', message: `${JSON.stringify(p)} has more than two "/"; gRPC C-core ignores such routes (use "/pkg.Service/" or "/pkg.Service/Method")`, input: p });
  }
});

const matchSchema = strict({
  path_prefix: pathPrefix.optional(),
  headers: z.array(headerSchema, { error: (iss) => `expected a list of header matchers, got ${got(iss.input)}` }).optional(),
})
  .superRefine((m, ctx) => {
    if (m.path_prefix === undefined && m.headers === undefined) {
      ctx.addIssue({ code: 'custom', message: 'empty; leave "match" out for a route that takes every call', input: m });
    }
    if (m.headers?.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['headers'], message: 'empty; list at least one header or leave "headers" out', input: m.headers });
    }
  })
  .transform((m): RouteMatch => ({ pathPrefix: m.path_prefix ?? '/', headers: m.headers ?? [] }));

const retrySchema = strict({
  on: z.array(str(), { error: (iss) => (iss.input === undefined ? 'required' : `expected a list of status names, got ${got(iss.input)}`) }),
  retries: intIn(1, MAX_RETRIES).optional(),
  backoff: strict({ base: duration, max: duration.optional() })
    .superRefine(({ base, max }, ctx) => {
      if (max !== undefined && max < base) ctx.addIssue({ code: 'custom', path: ['max'], message: `must be at least base (${formatDuration(base)}), got ${formatDuration(max)}`, input: max });
    })
    .optional(),
})
  .superRefine(({ on }, ctx) => {
    const known = new Set<string>(RETRY_ON);
    if (on.length === 0) ctx.addIssue({ code: 'custom', path: ['on'], message: `empty; list at least one of ${RETRY_ON.join(', ')}`, input: on });
    on.forEach((code, i) => {
      const message = !known.has(code)
        ? `${JSON.stringify(code)} is not retryable; use ${RETRY_ON.join(', ')}`
        : on.indexOf(code) !== i
          ? `${JSON.stringify(code)} is listed twice`
          : undefined;
      if (message) ctx.addIssue({ code: 'custom', path: ['on', i], message, input: code });
    });
  })
  .transform(({ on, retries, backoff }): RetryPolicy => ({
    on: on as RetryOn[],
    retries: retries ?? 1,
    ...(backoff ? { backoff: backoff.max === undefined ? { baseMs: backoff.base } : { baseMs: backoff.base, maxMs: backoff.max } } : {}),
  }));

const routeSchema = strict({
  match: matchSchema.optional(),
  to: str('a subset name or "*"').optional(),
  split: z.record(z.string(), intIn(1, 100), { error: (iss) => `expected an object of subset name → weight, got ${got(iss.input)}` }).optional(),
  timeout: duration.optional(),
  retry: retrySchema.optional(),
})
  .superRefine((r, ctx) => {
    if (r.to !== undefined && r.split !== undefined) {
      ctx.addIssue({ code: 'custom', message: 'set either "to" or "split", not both', input: r });
    } else if (r.split !== undefined) {
      const weights = Object.values(r.split);
      const sum = weights.reduce((s, w) => s + w, 0);
      if (weights.length === 0) ctx.addIssue({ code: 'custom', path: ['split'], message: 'empty; give at least one subset a weight', input: r.split });
      else if (sum !== 100) ctx.addIssue({ code: 'custom', path: ['split'], message: `weights sum to ${sum}, expected 100`, input: r.split });
    }
  })
  .transform((r): PolicyRoute => {
    const targets = r.split ? Object.entries(r.split).map(([to, weight]) => ({ to, weight })) : [{ to: r.to ?? WHOLE_SERVICE, weight: 100 }];
    return {
      ...(r.match ? { match: r.match } : {}),
      targets,
      ...(r.timeout === undefined ? {} : { timeoutMs: r.timeout }),
      ...(r.retry ? { retry: r.retry } : {}),
    };
  });

const SUBSET_NAME = /^[a-z0-9](?:[a-z0-9._-]{0,61}[a-z0-9])?$/;

const selectorSchema = strict({
  version: str('a non-empty string').refine((v) => v.length > 0, { error: 'must not be empty' }).optional(),
  tags: z.record(z.string(), str(), { error: (iss) => `expected an object of string values, got ${got(iss.input)}` }).optional(),
})
  .superRefine((s, ctx) => {
    if (s.version === undefined && Object.keys(s.tags ?? {}).length === 0) {
      ctx.addIssue({ code: 'custom', message: 'selector is empty; set "version" and/or "tags"', input: s });
    }
  });

const subsetsSchema = z
  .record(z.string(), selectorSchema, { error: (iss) => `expected an object of subset name → selector, got ${got(iss.input)}` })
  .superRefine((subsets, ctx) => {
    const names = Object.keys(subsets);
    if (names.length === 0) ctx.addIssue({ code: 'custom', message: 'empty; define at least one subset or leave "subsets" out', input: subsets });
    if (names.length > MAX_SUBSETS) ctx.addIssue({ code: 'custom', message: `${names.length} subsets; at most ${MAX_SUBSETS} are allowed`, input: subsets });
    for (const name of names.filter((n) => !SUBSET_NAME.test(n))) {
      ctx.addIssue({
        code: 'custom',
        path: [name],
        message: `invalid subset name ${JSON.stringify(name)}: use 1 to 63 lowercase letters, digits, '.', '-' and '_', starting and ending with a letter or digit`,
        input: name,
      });
    }
  })
  .transform((subsets): SubsetDefinition[] =>
    Object.entries(subsets).map(([name, s]) => {
      const tags = Object.fromEntries(Object.entries(s.tags ?? {}));
      return s.version === undefined ? { name, tags } : { name, version: s.version, tags };
    }),
  );

const policySchema = strict({
  subsets: subsetsSchema.optional(),
  routes: z
    .array(routeSchema, { error: (iss) => (iss.input === undefined ? 'required' : `expected a list of routes, got ${got(iss.input)}`) })
    .min(1, { error: `expected 1 to ${MAX_ROUTES} routes, got 0` })
    .max(MAX_ROUTES, { error: (iss) => `expected 1 to ${MAX_ROUTES} routes, got ${(iss.input as unknown[]).length}` }),
});

type RawPolicy = z.infer<typeof policySchema>;

// ---- parsing --------------------------------------------------------------------------------------

const pathText = (path: readonly PropertyKey[]): string =>
  path
    .map((p, i) =>
      typeof p === 'number' ? `[${p}]` : /^[A-Za-z0-9_-]+$/.test(String(p)) ? `${i === 0 ? '' : '.'}${String(p)}` : `[${JSON.stringify(String(p))}]`,
    )
    .join('');

/**
 * Parses and validates the policy stored at `key`. Every reason names the key and the field, e.g.
 * `/switchyard/routes/greeter: routes[1].split: weights sum to 95, expected 100`.
 * @example
 * const r = parseRoutePolicy('/switchyard/routes/greeter', '{"subsets":{"v2":{"version":"v2"}},"routes":[{"to":"v2"}]}');
 * if (r.ok) r.value.routes; // [{ targets: [{ to: 'v2', weight: 100 }] }]
 */
export function parseRoutePolicy(key: string, json: string): Result<RoutePolicy> {
  const r = parseRoutePolicyValue(json);
  return r.ok ? r : err(...r.errors.map((e) => `${key}: ${e}`));
}

/** The same without the key, for places that show the key beside the reason (a catalog Rejection). */
export function parseRoutePolicyValue(json: string): Result<RoutePolicy> {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (e) {
    return err(`value is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return err('value must be a JSON object');
  const parsed = policySchema.safeParse(value);
  const errors: string[] = [];
  const report = (path: readonly PropertyKey[], message: string) => errors.push(path.length ? `${pathText(path)}: ${message}` : message);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      if (issue.code === 'unrecognized_keys') for (const k of issue.keys) report([...issue.path, k], issue.message);
      else report(issue.path, issue.message);
    }
    return err(...errors);
  }
  // The schema accepted it, so `routes` is a list of objects; it still tells `to` from `split` apart.
  const policy = checkPolicy(parsed.data, (value as { routes: object[] }).routes, report);
  return errors.length > 0 ? err(...errors) : ok(policy);
}

type Report = (path: readonly PropertyKey[], message: string) => void;

/** What needs the whole policy: every target names a defined subset, and no route hides behind a catch-all. */
function checkPolicy({ subsets = [], routes }: RawPolicy, input: readonly object[], report: Report): RoutePolicy {
  const defined = subsets.map((s) => s.name);
  const known = (to: string) => to === WHOLE_SERVICE || defined.includes(to);
  const unknown = (to: string) =>
    `unknown subset ${JSON.stringify(to)}; ${defined.length === 0 ? 'no subsets are defined' : `defined: ${defined.join(', ')}`}`;
  routes.forEach((r, i) => {
    const field = input[i] && 'split' in input[i] ? 'split' : 'to';
    for (const t of r.targets) if (!known(t.to)) report(['routes', i, field], unknown(t.to));
  });
  const catchAll = routes.findIndex((r) => !r.match);
  if (catchAll >= 0 && catchAll < routes.length - 1) {
    report(['routes', catchAll + 1], `unreachable: routes[${catchAll}] has no "match" and takes every call; put it last`);
  }
  return { subsets, routes: catchAll < 0 ? [...routes, DEFAULT_ROUTE] : routes };
}
