import { afterEach, describe, expect, test } from 'bun:test';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dir, '..', '..');
const shim = join(root, 'bin', 'switchyard');

/** The real command as users run it: Node runs the bin shim, which runs the CLI on Bun. */
function switchyard(args: string[], env: Record<string, string | undefined> = {}) {
  return Bun.spawn(['node', shim, ...args], {
    cwd: root,
    env: { ...process.env, SWITCHYARD_XDS_LISTEN: undefined, SWITCHYARD_ETCD: undefined, ...env },
    stdout: 'pipe',
    stderr: 'pipe',
  });
}

async function run(args: string[]) {
  const proc = switchyard(args);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { stdout, stderr, code };
}

/** Collects a stream's text and resolves when a pattern shows up in it. */
function watchText(stream: ReadableStream<Uint8Array>) {
  let text = '';
  let ended = false;
  const waiters = new Set<() => void>();
  void (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      text += decoder.decode(chunk, { stream: true });
      for (const w of waiters) w();
    }
    ended = true;
    for (const w of waiters) w();
  })();
  return {
    text: () => text,
    waitFor(pattern: RegExp, timeoutMs: number, describe: () => string): Promise<RegExpMatchArray> {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = pattern.exec(text);
          if (!m && !ended) return;
          clearTimeout(timer);
          waiters.delete(check);
          if (m) resolve(m);
          else reject(new Error(`output ended without ${pattern}\n${describe()}`));
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no ${pattern} within ${timeoutMs} ms\n${describe()}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
  };
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('switchyard command', () => {
  test('a bad flag exits 2 and names the flag', async () => {
    const { stdout, stderr, code } = await run(['serve', '--xds-listn', '127.0.0.1:0']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain('unknown flag --xds-listn for "serve"');
    expect(stderr).toContain("Run 'switchyard help' for usage.");
  });

  test('a bad value exits 2 and says what was given and what is expected', async () => {
    const { stderr, code } = await run(['serve', '--etcd', 'localhost:2379']);
    expect(code).toBe(2);
    expect(stderr).toContain('--etcd: got "localhost:2379"');
    expect(stderr).toContain('expected comma-separated http:// or https:// URLs');
  });

  test('bootstrap prints a gRPC xDS bootstrap', async () => {
    const { stdout, code } = await run(['bootstrap', '--node-id', 'x', '--server', '127.0.0.1:1234']);
    expect(code).toBe(0);
    const bootstrap = JSON.parse(stdout);
    expect(bootstrap.node.id).toBe('x');
    expect(bootstrap.node.locality).toEqual({});
    expect(bootstrap.xds_servers[0].server_uri).toBe('127.0.0.1:1234');
    expect(bootstrap.xds_servers[0].server_features).toContain('xds_v3');
  });

  test('help and version', async () => {
    const help = await run(['help', 'serve']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--xds-listen <host:port>');
    const version = await run(['version']);
    expect(version).toEqual({ stdout: `switchyard ${(await Bun.file(join(root, 'package.json')).json()).version}\n`, stderr: '', code: 0 });
  });
});

describe('switchyard serve --demo', () => {
  let proc: ReturnType<typeof switchyard> | undefined;
  afterEach(() => {
    if (proc && proc.exitCode === null) proc.kill('SIGKILL');
  });

  test('starts a private etcd and the demo, serves a client, and stops everything on SIGTERM', async () => {
    proc = switchyard(['serve', '--xds-listen', '127.0.0.1:0', '--demo']);
    const out = watchText(proc.stdout);
    const err = watchText(proc.stderr);
    const describe = () => `stdout:\n${out.text()}\nstderr:\n${err.text()}`;

    const [, pidText, dataDir] = await out.waitFor(/private etcd at http:\/\/127\.0\.0\.1:\d+ \(pid (\d+), data dir ([^,)]+)/, 20_000, describe);
    const etcdPid = Number(pidText);
    expect(alive(etcdPid)).toBe(true);
    const [, address] = await out.waitFor(/xDS server listening on (127\.0\.0\.1:\d+)/, 20_000, describe);
    await out.waitFor(/demo: 3 greeter instances registered/, 20_000, describe);

    // The README's try-it command, with this run's address.
    const bootstrap = await run(['bootstrap', '--server', address!]);
    const client = Bun.spawn(['node', join(root, 'examples', 'greeter-client.mjs'), '30'], {
      cwd: root,
      env: { ...process.env, GRPC_XDS_BOOTSTRAP_CONFIG: bootstrap.stdout },
      stdout: 'pipe',
      stderr: 'pipe',
    });
    const [clientOut, clientErr, clientCode] = await Promise.all([
      new Response(client.stdout).text(),
      new Response(client.stderr).text(),
      client.exited,
    ]);
    expect({ clientCode, clientErr }).toEqual({ clientCode: 0, clientErr: '' });
    for (const id of ['greeter-1', 'greeter-2', 'greeter-3']) expect(clientOut).toContain(id);

    proc.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
    expect(alive(etcdPid)).toBe(false);
    expect(existsSync(dataDir!)).toBe(false);
  }, 60_000);
});
