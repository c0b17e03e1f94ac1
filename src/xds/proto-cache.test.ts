import { describe, expect, test } from 'bun:test';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import protobuf from 'protobufjs';
import { parseProtoFiles, protoCacheKey } from './proto.ts';
import { readCachedRoot, writeCachedRoot } from './proto-cache.ts';
import { fieldRules, messageDisabled, oneofRequired } from './validate/rule-options.ts';

const parsed = parseProtoFiles(new protobuf.Root());
const key = protoCacheKey();

function withDir(fn: (dir: string) => void) {
  const dir = mkdtempSync(path.join(tmpdir(), 'switchyard-proto-cache-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function typesOf(ns: protobuf.Namespace): protobuf.Type[] {
  return ns.nestedArray.flatMap((c) => [...(c instanceof protobuf.Type ? [c] : []), ...(c instanceof protobuf.Namespace ? typesOf(c) : [])]);
}

const byName = (a: [string, unknown], b: [string, unknown]) => a[0].localeCompare(b[0]);

/**
 * What the validator reads from a root: rules per field, required oneofs, disabled messages. Sorted by
 * name: extension fields join the extended type in resolution order, which differs between the two.
 */
function validationView(root: protobuf.Root) {
  return typesOf(root).map((t) => ({
    type: t.fullName,
    disabled: messageDisabled(t),
    fields: t.fieldsArray.map((f): [string, unknown] => [f.name, fieldRules(f)]).sort(byName),
    oneofs: t.oneofsArray.map((o): [string, unknown] => [o.name, oneofRequired(o)]).sort(byName),
  }));
}

describe('proto descriptor cache', () => {
  test('a root read back describes the same messages and carries the same validation rules', () => {
    withDir((dir) => {
      const file = path.join(dir, 'root.json');
      expect(writeCachedRoot(file, key, parsed)).toBe(true);
      const cached = readCachedRoot(file, key)!;
      expect(cached).toBeDefined();
      expect(JSON.stringify(cached.toJSON())).toBe(JSON.stringify(parsed.toJSON()));
      const view = validationView(cached);
      expect(view).toEqual(validationView(parsed));
      // Not vacuous: the Envoy protos carry many PGV rules.
      expect(view.flatMap((t) => t.fields).filter(([, rules]) => rules !== undefined).length).toBeGreaterThan(300);
      expect(view.flatMap((t) => t.oneofs).filter(([, required]) => required).length).toBeGreaterThan(40);
    });
  });

  test('encodes and decodes like the parsed root', () => {
    withDir((dir) => {
      const file = path.join(dir, 'root.json');
      writeCachedRoot(file, key, parsed);
      const cached = readCachedRoot(file, key)!;
      const cluster = {
        name: 'svc',
        type: 'EDS',
        eds_cluster_config: { eds_config: { ads: {}, resource_api_version: 'V3' } },
        connect_timeout: { seconds: 1, nanos: 5 },
        lb_policy: 'ROUND_ROBIN',
      };
      const encode = (root: protobuf.Root) => {
        const type = root.lookupType('envoy.config.cluster.v3.Cluster');
        return Buffer.from(type.encode(type.fromObject(cluster)).finish());
      };
      const bytes = encode(parsed);
      expect(encode(cached)).toEqual(bytes);
      expect(cached.lookupType('envoy.config.cluster.v3.Cluster').decode(bytes).toJSON()).toEqual(
        parsed.lookupType('envoy.config.cluster.v3.Cluster').decode(bytes).toJSON(),
      );
    });
  });

  test('more files load on top without parsing the cached ones again', () => {
    withDir((dir) => {
      const file = path.join(dir, 'root.json');
      writeCachedRoot(file, key, parsed);
      const cached = readCachedRoot(file, key)!;
      parseProtoFiles(cached, ['envoy/config/bootstrap/v3/bootstrap.proto']);
      expect(cached.lookupType('envoy.config.bootstrap.v3.Bootstrap').fieldsArray.length).toBeGreaterThan(10);
    });
  });

  test('a stale key, a corrupt file or no file reads as no cache', () => {
    withDir((dir) => {
      const file = path.join(dir, 'root.json');
      expect(readCachedRoot(file, key)).toBeUndefined();
      writeCachedRoot(file, key, parsed);
      expect(readCachedRoot(file, `${key}+other`)).toBeUndefined();
      writeFileSync(file, '{"format":1,');
      expect(readCachedRoot(file, key)).toBeUndefined();
    });
  });

  test('a directory that cannot be written means no cache, not an error', () => {
    if (process.getuid?.() === 0) {
      // root writes anywhere; a path under a regular file cannot be created by anyone
      withDir((dir) => {
        writeFileSync(path.join(dir, 'file'), '');
        expect(writeCachedRoot(path.join(dir, 'file', 'root.json'), key, parsed)).toBe(false);
      });
      return;
    }
    withDir((dir) => {
      chmodSync(dir, 0o500);
      expect(writeCachedRoot(path.join(dir, 'sub', 'root.json'), key, parsed)).toBe(false);
    });
  });
});
