import protobuf from 'protobufjs';
import type { WalkContext } from './context.ts';
import { compileElement, type Recurse } from './element.ts';
import { Notes } from './notes.ts';
import { fieldRules, messageDisabled, num, oneofRequired, sub } from './rule-options.ts';
import { toNumber } from './scalars.ts';
import type { RuleObject, UnsupportedRule } from './types.ts';

/** A field that has something to check, with its compiled visit of the raw value read from the message. */
interface FieldPlan {
  readonly name: string;
  readonly visit: (raw: unknown, ctx: WalkContext) => void;
}

/** The compiled rules of one message type; built once per protobufjs Type and cached. */
export interface TypePlan {
  readonly fields: readonly FieldPlan[];
  readonly requiredOneofs: readonly { readonly name: string; readonly members: readonly string[] }[];
  readonly unsupported: readonly UnsupportedRule[];
}

const plans = new WeakMap<protobuf.Type, TypePlan>();
const reachable = new WeakMap<protobuf.Type, boolean>();

const ownChecks = new WeakMap<protobuf.Type, boolean>();

const isAny = (t: protobuf.Type) => t.fullName === '.google.protobuf.Any';

function hasOwnChecks(type: protobuf.Type): boolean {
  let own = ownChecks.get(type);
  if (own === undefined) {
    const anyField = (f: protobuf.Field) => {
      const t = f.resolve().resolvedType;
      return t instanceof protobuf.Type && isAny(t);
    };
    own = type.oneofsArray.some(oneofRequired) || type.fieldsArray.some((f) => fieldRules(f) !== undefined || anyField(f));
    ownChecks.set(type, own);
  }
  return own;
}

/**
 * Whether any rule (or an Any, whose payload may carry rules) is reachable from `type`, so walks skip
 * subtrees with nothing to check (Struct, Locality, …). A plain DFS per queried type handles cycles.
 */
export function needsVisit(type: protobuf.Type): boolean {
  const known = reachable.get(type);
  if (known !== undefined) return known;
  const seen = new Set<protobuf.Type>();
  const stack = [type];
  let found = false;
  while (stack.length > 0 && !found) {
    const t = stack.pop()!;
    if (seen.has(t) || reachable.get(t) === false || messageDisabled(t)) continue;
    seen.add(t);
    if (reachable.get(t) === true || hasOwnChecks(t)) found = true;
    for (const f of t.fieldsArray) {
      f.resolve();
      if (f.resolvedType instanceof protobuf.Type) stack.push(f.resolvedType);
    }
  }
  if (found) reachable.set(type, true);
  else for (const t of seen) reachable.set(t, false); // everything they reach was searched too
  return found;
}

export function planFor(type: protobuf.Type): TypePlan {
  let plan = plans.get(type);
  if (!plan) {
    plan = compileType(type);
    plans.set(type, plan);
  }
  return plan;
}

function compileType(type: protobuf.Type): TypePlan {
  const notes = new Notes(type.fullName.slice(1));
  if (messageDisabled(type)) return { fields: [], requiredOneofs: [], unsupported: [] };
  const fields: FieldPlan[] = [];
  for (const field of type.fieldsArray) {
    field.resolve();
    notes.field = field.name;
    const visit = compileField(field, fieldRules(field), notes);
    if (visit) fields.push({ name: field.name, visit });
  }
  const requiredOneofs = type.oneofsArray.filter(oneofRequired).map((o) => ({ name: o.name, members: [...o.oneof] }));
  return { fields, requiredOneofs, unsupported: notes.unsupported };
}

function compileField(field: protobuf.Field, rules: RuleObject | undefined, notes: Notes): FieldPlan['visit'] | undefined {
  if (field instanceof protobuf.MapField) return compileMap(field, rules, notes);
  if (field.repeated) return compileRepeated(field, rules, notes);
  const el = compileElement(field.type, field.resolvedType, rules, '', notes, RECURSE);
  // A oneof member (or proto3 `optional`) has presence: its rules apply only when it is the one set.
  const gated = field.partOf !== null && field.partOf !== undefined;
  const { check, requiredRule, defaultValue } = el;
  if (!check && !requiredRule) return undefined;
  if (el.message || gated) {
    return (raw, ctx) => {
      if (raw === null || raw === undefined) {
        if (requiredRule && !gated) ctx.report(requiredRule, 'value is required');
        return;
      }
      check?.(raw, ctx);
    };
  }
  return check && ((raw, ctx) => check(raw ?? defaultValue, ctx));
}

function elementKey(v: unknown): string {
  if (v instanceof Uint8Array) return `b:${Buffer.from(v).toString('hex')}`;
  if (typeof v === 'object' && v !== null) return `n:${toNumber(v)}`; // Long
  return `${typeof v}:${String(v)}`;
}

function compileRepeated(field: protobuf.Field, rules: RuleObject | undefined, notes: Notes): FieldPlan['visit'] | undefined {
  const r = sub(rules, 'repeated');
  for (const key of Object.keys(rules ?? {})) if (key !== 'repeated') notes.add(key, `${key} rules on a repeated field`);
  if (r) notes.unknownKeys('repeated.', r, ['min_items', 'max_items', 'unique', 'items', 'ignore_empty']);
  const el = compileElement(field.type, field.resolvedType, sub(r, 'items'), 'repeated.items.', notes, RECURSE);
  const min = r && num(r, 'min_items');
  const max = r && num(r, 'max_items');
  const unique = r?.unique === true;
  if (unique && el.message) notes.add('repeated.unique', 'unique applies to scalar and enum items only');
  const ignoreEmpty = r?.ignore_empty === true;
  const check = el.check;
  if (min === undefined && max === undefined && !unique && !check) return undefined;
  return (raw, ctx) => {
    const items = Array.isArray(raw) ? raw : [];
    if (ignoreEmpty && items.length === 0) return;
    if (min !== undefined && items.length < min) ctx.report('repeated.min_items', `value must contain at least ${min} item(s), got ${items.length}`);
    if (max !== undefined && items.length > max) ctx.report('repeated.max_items', `value must contain at most ${max} item(s), got ${items.length}`);
    if (unique && !el.message) {
      const first = new Map<string, number>();
      items.forEach((item, i) => {
        const k = elementKey(item);
        const j = first.get(k);
        if (j === undefined) first.set(k, i);
        else {
          ctx.push(i);
          ctx.report('repeated.unique', `items must be unique, item ${i} repeats item ${j}`);
          ctx.pop();
        }
      });
    }
    if (!check) return;
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      if (item === null || item === undefined) continue;
      ctx.push(i);
      check(item, ctx);
      ctx.pop();
    }
  };
}

function compileMap(field: protobuf.MapField, rules: RuleObject | undefined, notes: Notes): FieldPlan['visit'] | undefined {
  const r = sub(rules, 'map');
  for (const key of Object.keys(rules ?? {})) if (key !== 'map') notes.add(key, `${key} rules on a map field`);
  if (r) notes.unknownKeys('map.', r, ['min_pairs', 'max_pairs', 'no_sparse', 'keys', 'values', 'ignore_empty']);
  const keyEl = compileElement(field.keyType, null, sub(r, 'keys'), 'map.keys.', notes, RECURSE);
  const valueEl = compileElement(field.type, field.resolvedType, sub(r, 'values'), 'map.values.', notes, RECURSE);
  const min = r && num(r, 'min_pairs');
  const max = r && num(r, 'max_pairs');
  const noSparse = r?.no_sparse === true;
  const ignoreEmpty = r?.ignore_empty === true;
  const keyCheck = keyEl.check;
  const valueCheck = valueEl.check;
  // Map keys are object keys (strings) in protobufjs; bool keys read back as "true"/"false".
  const keyOf = field.keyType === 'bool' ? (k: string) => k === 'true' : (k: string) => k;
  if (min === undefined && max === undefined && !noSparse && !keyCheck && !valueCheck) return undefined;
  return (raw, ctx) => {
    const map = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>) : {};
    const keys = Object.keys(map);
    if (ignoreEmpty && keys.length === 0) return;
    if (min !== undefined && keys.length < min) ctx.report('map.min_pairs', `value must contain at least ${min} pair(s), got ${keys.length}`);
    if (max !== undefined && keys.length > max) ctx.report('map.max_pairs', `value must contain at most ${max} pair(s), got ${keys.length}`);
    for (const k of keys) {
      const v = map[k];
      ctx.push({ key: k });
      keyCheck?.(keyOf(k), ctx);
      if (v === null || v === undefined) {
        if (noSparse) ctx.report('map.no_sparse', 'map values must be set');
      } else valueCheck?.(v, ctx);
      ctx.pop();
    }
  };
}

/**
 * A field's value if it is set on `o` itself. A decoded protobufjs Message keeps unset fields on its
 * prototype, and there an unset oneof scalar member reads as its type default ('' or 0), not null, so
 * presence is "own property, not null" for both Messages and plain objects.
 */
const own = (o: Record<string, unknown>, name: string): unknown => (Object.hasOwn(o, name) ? o[name] : undefined);

/** Checks `obj` (a decoded protobufjs Message or a plain object with proto field names) as `type`. */
export function visitMessage(type: protobuf.Type, obj: object, ctx: WalkContext): void {
  const plan = planFor(type);
  const o = obj as Record<string, unknown>;
  for (const oneof of plan.requiredOneofs) {
    let count = 0;
    for (const m of oneof.members) if (own(o, m) != null) count++;
    if (count === 1) continue;
    const set = oneof.members.filter((m) => own(o, m) != null);
    ctx.push(oneof.name);
    const got = set.length === 0 ? 'none is' : `${set.join(', ')} are`;
    ctx.report('oneof.required', `exactly one of [${oneof.members.join(', ')}] must be set, ${got}`);
    ctx.pop();
  }
  for (const f of plan.fields) {
    ctx.push(f.name);
    f.visit(own(o, f.name), ctx);
    ctx.pop();
  }
}

const RECURSE: Recurse = { needsVisit, visitMessage };
