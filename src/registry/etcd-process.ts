import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Code, SwitchyardError, errorMessage } from '../lib/errors.ts';
import { silentLogger, type Logger } from '../lib/logger.ts';
import { sleep } from '../lib/backoff.ts';

export interface EtcdProcessOptions {
  /** Data directory to use; when omitted a temp dir is created and removed again by `stop()`. */
  dataDir?: string;
  logger?: Logger;
  /** Path or name of the etcd binary. */
  binary?: string;
  readyTimeoutMs?: number;
  stopTimeoutMs?: number;
}

export interface EtcdProcess extends AsyncDisposable {
  /** `http://127.0.0.1:PORT` */
  readonly endpoint: string;
  readonly clientPort: number;
  readonly peerPort: number;
  readonly dataDir: string;
  /** Pid of the current child; changes on `restart()`. */
  readonly pid: number;
  /** Terminates etcd and removes the data dir if this module created it. Idempotent. */
  stop(): Promise<void>;
  /** Terminates etcd and starts it again on the same ports and data dir; `whileDown` runs in between. */
  restart(options?: { whileDown?: () => unknown }): Promise<void>;
}

const STDERR_TAIL_LINES = 30;
const PORT_CONFLICT_ATTEMPTS = 3;
let memberCounter = 0;

/** Starts a private single-member etcd on free loopback ports and resolves once `/health` reports healthy. */
export async function startEtcdProcess({
  dataDir,
  logger = silentLogger,
  binary = 'etcd',
  readyTimeoutMs = 10_000,
  stopTimeoutMs = 5_000,
}: EtcdProcessOptions = {}): Promise<EtcdProcess> {
  exitCleanup.install();
  const ownsDataDir = dataDir === undefined;
  let dir: string;
  try {
    dir = dataDir ?? (await mkdtemp(join(tmpdir(), 'switchyard-etcd-')));
    if (!ownsDataDir) await mkdir(dir, { recursive: true });
  } catch (e) {
    throw new SwitchyardError(Code.FailedPrecondition, `cannot create the etcd data dir: ${errorMessage(e)}. Pass a writable directory`, { cause: e });
  }
  if (ownsDataDir) exitCleanup.dirs.add(dir);
  const name = `switchyard-${process.pid}-${++memberCounter}-${Math.random().toString(36).slice(2, 8)}`;

  let child: ChildProcess | undefined;
  let ports: { client: number; peer: number } | undefined;
  let stopped = false;

  try {
    // Ports are picked by binding port 0 and closing again, so another process can win the race: retry.
    for (let attempt = 1; ; attempt++) {
      const [client, peer] = await freePorts(2);
      ports = { client: client!, peer: peer! };
      try {
        child = await launch({ binary, name, dir, ports, readyTimeoutMs, logger });
        break;
      } catch (e) {
        if (!(e instanceof PortInUseError) || attempt >= PORT_CONFLICT_ATTEMPTS) throw e;
        logger.debug('etcd port already in use, picking new ports', { attempt });
      }
    }
  } catch (e) {
    if (ownsDataDir) await removeDir(dir);
    throw e;
  }

  const { client: clientPort, peer: peerPort } = ports;
  const endpoint = `http://127.0.0.1:${clientPort}`;
  logger.info('etcd started', { endpoint, dataDir: dir, pid: child.pid });

  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    const c = child;
    child = undefined;
    if (c) await terminate(c, stopTimeoutMs);
    if (ownsDataDir) await removeDir(dir);
    logger.info('etcd stopped', { endpoint });
  };

  return {
    endpoint,
    clientPort,
    peerPort,
    dataDir: dir,
    get pid() {
      return child?.pid ?? -1;
    },
    stop,
    async restart({ whileDown } = {}) {
      if (stopped) throw new SwitchyardError(Code.FailedPrecondition, `etcd at ${endpoint} was stopped; start a new one instead of restarting`);
      const c = child;
      child = undefined;
      if (c) await terminate(c, stopTimeoutMs);
      await whileDown?.();
      if (stopped) return;
      child = await launch({ binary, name, dir, ports: { client: clientPort, peer: peerPort }, readyTimeoutMs, logger });
      logger.info('etcd restarted', { endpoint, pid: child.pid });
    },
    [Symbol.asyncDispose]: stop,
  };
}

class PortInUseError extends SwitchyardError {}

interface LaunchOptions {
  binary: string;
  name: string;
  dir: string;
  ports: { client: number; peer: number };
  readyTimeoutMs: number;
  logger: Logger;
}

async function launch({ binary, name, dir, ports, readyTimeoutMs, logger }: LaunchOptions): Promise<ChildProcess> {
  const clientUrl = `http://127.0.0.1:${ports.client}`;
  const peerUrl = `http://127.0.0.1:${ports.peer}`;
  const args = [
    `--name=${name}`,
    `--data-dir=${dir}`,
    `--listen-client-urls=${clientUrl}`,
    `--advertise-client-urls=${clientUrl}`,
    `--listen-peer-urls=${peerUrl}`,
    `--initial-advertise-peer-urls=${peerUrl}`,
    `--initial-cluster=${name}=${peerUrl}`,
    `--initial-cluster-token=${name}`,
    '--initial-cluster-state=new',
    '--logger=zap',
    '--log-outputs=stderr',
  ];
  // In a process group of its own: a terminal's Ctrl+C (sent to the whole foreground group) must not stop etcd
  // before its owner, which still needs it on the way out (the demo deregisters its instances), stops it last.
  const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  exitCleanup.children.add(child);
  child.once('exit', () => exitCleanup.children.delete(child));

  // etcd logs a lot to stderr: always drain the pipe (a full pipe blocks etcd), keep only the tail for errors.
  const tail: string[] = [];
  let partial = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    tail.push(...lines.filter((l) => l.length > 0));
    if (tail.length > STDERR_TAIL_LINES) tail.splice(0, tail.length - STDERR_TAIL_LINES);
  });
  const stderrTail = () => [...tail, partial].filter((l) => l.length > 0).slice(-15).join('\n');

  let exited: string | undefined;
  child.once('exit', (code, signal) => (exited = `exited with ${signal ?? `code ${code}`}`));
  let spawnError: Error | undefined;
  child.once('error', (e) => (spawnError = e));

  const deadline = Date.now() + readyTimeoutMs;
  while (Date.now() < deadline) {
    if (spawnError) {
      throw new SwitchyardError(
        Code.FailedPrecondition,
        `cannot run etcd binary '${binary}': ${spawnError.message}. Install etcd (Debian: apt-get install etcd-server) or point Switchyard at an existing cluster`,
        { cause: spawnError },
      );
    }
    if (exited) {
      const text = stderrTail();
      const msg = `etcd ${exited} before becoming ready (client ${clientUrl}, data dir ${dir}). Last stderr lines:\n${text}`;
      if (/address already in use/.test(text)) throw new PortInUseError(Code.Unavailable, msg);
      throw new SwitchyardError(Code.Unavailable, msg);
    }
    if (await isHealthy(clientUrl)) return child;
    await sleep(50);
  }
  await terminate(child, 2_000);
  logger.error('etcd did not become ready', { clientUrl });
  throw new SwitchyardError(
    Code.Unavailable,
    `etcd did not become healthy at ${clientUrl}/health within ${readyTimeoutMs} ms (data dir ${dir}). Last stderr lines:\n${stderrTail()}`,
  );
}

async function isHealthy(clientUrl: string): Promise<boolean> {
  try {
    const res = await fetch(`${clientUrl}/health`, { signal: AbortSignal.timeout(1_000) });
    const body = (await res.json()) as { health?: unknown };
    return res.ok && body.health === 'true';
  } catch {
    return false;
  }
}

async function terminate(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exit = once(child, 'exit');
  child.kill('SIGTERM');
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = await Promise.race([
    exit.then(() => false),
    new Promise<boolean>((r) => (timer = setTimeout(() => r(true), timeoutMs))),
  ]);
  clearTimeout(timer);
  if (timedOut) {
    child.kill('SIGKILL');
    await exit;
  }
}

async function freePorts(n: number): Promise<number[]> {
  // Keep all listeners open until every port is known, so the n ports are distinct.
  const servers = await Promise.all(
    Array.from({ length: n }, async () => {
      const server = createServer();
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      return server;
    }),
  );
  const ports = servers.map((s) => (s.address() as AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  return ports;
}

async function removeDir(dir: string): Promise<void> {
  exitCleanup.dirs.delete(dir);
  try {
    await rm(dir, { recursive: true, force: true });
  } catch (e) {
    // Not fatal: a leftover temp dir is only clutter.
    process.stderr.write(`switchyard: could not remove etcd data dir ${dir}: ${errorMessage(e)}\n`);
  }
}

/** If the parent exits without calling stop(), etcd children must not outlive it (hook installed on first use). */
const exitCleanup = {
  children: new Set<ChildProcess>(),
  dirs: new Set<string>(),
  installed: false,
  install(): void {
    if (this.installed) return;
    this.installed = true;
    process.once('exit', () => {
      for (const c of this.children) c.kill('SIGKILL');
      for (const d of this.dirs) rmSync(d, { recursive: true, force: true });
    });
  },
};
