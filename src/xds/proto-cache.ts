/**
 * A JSON descriptor of the loaded Envoy root, written after the first parse of the .proto files and read
 * on later starts: parsing takes ~170 ms of a cold start, reading the descriptor ~70 ms.
 *
 * protobufjs's JSON round trip drops `parsedOptions`, where the PGV rules the validator reads live, and
 * enum values' options, so both are stored beside the descriptor and put back; and the list of files
 * loaded, which is restored so that loading more files on top (e.g. the bootstrap proto in tests) does
 * not parse them twice.
 * @module
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import protobuf from 'protobufjs';

const FORMAT = 1;

interface CachedOptions {
  /** Full name of the type (or namespace) that holds the object. */
  readonly parent: string;
  readonly kind: 'field' | 'oneof' | 'nested';
  readonly name: string;
  readonly parsedOptions?: unknown;
  /** An enum's per-value options. */
  readonly valuesOptions?: unknown;
}

interface CacheFile {
  readonly format: number;
  readonly key: string;
  readonly files: string[];
  readonly root: protobuf.INamespace;
  readonly options: CachedOptions[];
}

/** The root stored in `file` under `key`, or undefined when there is none, it is stale or unreadable. */
export function readCachedRoot(file: string, key: string): protobuf.Root | undefined {
  let cache: CacheFile;
  try {
    cache = JSON.parse(readFileSync(file, 'utf8')) as CacheFile;
  } catch {
    return undefined;
  }
  if (cache.format !== FORMAT || cache.key !== key) return undefined;
  // Not Root.fromJSON, which resolves every type up front: protobufjs resolves a type's fields when it is first
  // used, and Switchyard uses a few dozen of the ~400 types loaded.
  const root = new protobuf.Root();
  root.addJSON(cache.root.nested ?? {});
  if (cache.root.options) root.setOptions(cache.root.options);
  for (const o of cache.options) {
    const holder = o.parent === '' ? root : root.lookup(o.parent);
    const target =
      o.kind === 'nested'
        ? holder instanceof protobuf.Namespace ? holder.get(o.name) : null
        : holder instanceof protobuf.Type ? (o.kind === 'field' ? holder.fields[o.name] : holder.oneofs?.[o.name]) : null;
    // A descriptor that does not match itself is not worth a partial fix: parse the protos instead.
    if (!target) return undefined;
    if (o.parsedOptions !== undefined) (target as { parsedOptions?: unknown }).parsedOptions = o.parsedOptions;
    if (o.valuesOptions !== undefined) (target as { valuesOptions?: unknown }).valuesOptions = o.valuesOptions;
  }
  root.files.push(...cache.files);
  return root;
}

/** Stores `root` in `file` under `key`; a directory that cannot be written only means no cache. */
export function writeCachedRoot(file: string, key: string, root: protobuf.Root): boolean {
  const cache: CacheFile = { format: FORMAT, key, files: [...root.files], root: root.toJSON(), options: optionsOf(root) };
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(tmp, JSON.stringify(cache));
    renameSync(tmp, file);
    return true;
  } catch {
    return false;
  }
}

function optionsOf(root: protobuf.Root): CachedOptions[] {
  const out: CachedOptions[] = [];
  const record = (parent: protobuf.ReflectionObject, kind: CachedOptions['kind'], obj: protobuf.ReflectionObject) => {
    const { parsedOptions, valuesOptions } = obj as { parsedOptions?: unknown; valuesOptions?: unknown };
    if (parsedOptions == null && valuesOptions == null) return;
    out.push({ parent: parent.fullName, kind, name: obj.name, ...(parsedOptions != null && { parsedOptions }), ...(valuesOptions != null && { valuesOptions }) });
  };
  const visit = (ns: protobuf.Namespace) => {
    for (const child of ns.nestedArray) {
      record(ns, 'nested', child);
      if (child instanceof protobuf.Type) {
        for (const field of child.fieldsArray) record(child, 'field', field);
        for (const oneof of child.oneofsArray) record(child, 'oneof', oneof);
      }
      if (child instanceof protobuf.Namespace) visit(child);
    }
  };
  visit(root);
  return out;
}
