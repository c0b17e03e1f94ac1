import { expect, test } from 'bun:test';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const SRC = path.resolve(import.meta.dir, '../src');

/** Which modules each module may import (style.md §8): data flows registry → catalog → xds, never back. */
const ALLOWED: Record<string, { modules: string[]; packages: string[] }> = {
  lib: { modules: [], packages: [] },
  config: { modules: ['lib'], packages: [] },
  catalog: { modules: ['lib'], packages: ['zod'] },
  registry: { modules: ['lib', 'catalog'], packages: ['etcd3', '@grpc/grpc-js', 'zod'] },
  'xds/type-urls': { modules: [], packages: [] },
  'xds/proto': { modules: ['lib', 'xds/type-urls', 'xds/proto-cache'], packages: ['protobufjs'] },
  'xds/proto-cache': { modules: [], packages: ['protobufjs'] },
  'xds/grpc-bootstrap': { modules: ['lib'], packages: [] },
  'xds/validate': { modules: ['xds/proto'], packages: ['protobufjs'] },
  'xds/resources': { modules: ['lib', 'catalog', 'xds/type-urls'], packages: [] },
  'xds/snapshot': { modules: ['lib', 'catalog', 'xds/resources', 'xds/proto', 'xds/validate', 'xds/type-urls'], packages: [] },
  'xds/server': { modules: ['lib', 'xds/snapshot', 'xds/proto', 'xds/type-urls'], packages: ['@grpc/grpc-js', 'protobufjs'] },
  metrics: { modules: ['lib'], packages: [] },
  admin: { modules: ['lib', 'catalog', 'xds/snapshot', 'xds/server', 'xds/type-urls', 'metrics'], packages: ['hono'] },
  demo: { modules: ['lib'], packages: ['@grpc/grpc-js', 'protobufjs'] },
  sdk: { modules: ['lib', 'catalog', 'registry'], packages: ['etcd3'] },
  app: { modules: ['*'], packages: ['etcd3'] },
  index: { modules: ['*'], packages: [] },
  cli: { modules: ['*'], packages: ['etcd3'] },
};

function moduleOf(file: string): string {
  const rel = path.relative(SRC, file).replace(/\\/g, '/').replace(/\.ts$/, '');
  const [top, second] = rel.split('/');
  if (top === 'xds') return `xds/${second}`;
  return top!;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [p] : [];
  });
}

const IMPORT = /^\s*(?:import|export)\b[^'"]*?from\s+['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]/gm;

test('every import in src/ follows the module table', () => {
  const violations: string[] = [];
  for (const file of sourceFiles(SRC)) {
    const from = moduleOf(file);
    const rule = ALLOWED[from];
    const rel = path.relative(SRC, file);
    if (!rule) {
      violations.push(`${rel}: module "${from}" is not in the table of test/architecture.test.ts`);
      continue;
    }
    for (const m of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const spec = (m[1] ?? m[2])!;
      if (spec.startsWith('node:')) continue;
      if (spec.startsWith('.')) {
        const target = path.resolve(path.dirname(file), spec);
        if (!target.startsWith(SRC)) {
          violations.push(`${rel}: imports ${spec} from outside src/`);
          continue;
        }
        const to = moduleOf(target);
        const anything = rule.modules.includes('*') && (to !== 'cli' || from === 'cli');
        if (to === from || anything || rule.modules.includes(to)) continue;
        violations.push(`${rel}: ${from} may not import ${to} (${spec})`);
      } else {
        const pkg = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
        if (!rule.packages.includes(pkg) && !(from === 'cli' || from === 'app')) {
          violations.push(`${rel}: ${from} may not import package ${pkg}`);
        }
      }
    }
  }
  expect(violations).toEqual([]);
});
