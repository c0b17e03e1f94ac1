/**
 * A real proxyless gRPC client (grpc-js + grpc-js-xds) in its own process, under Node or Bun, driven over stdio.
 * Its own process because grpc-js caches the xDS bootstrap for the life of a process: one client = one node id.
 *
 * @example
 *   await using client = await startXdsClient({ runtime: 'node', xdsServer: `127.0.0.1:${port}` });
 *   const { counts } = await client.call('xds:///greeter', 10, { waitForReady: true });
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { grpcBootstrap, type GrpcBootstrap, type GrpcBootstrapOptions } from '../../src/xds/grpc-bootstrap.ts';

export type Runtime = 'node' | 'bun';

export interface XdsClientOptions {
  runtime: Runtime;
  /** `host:port` of the xDS server (the bootstrap's `server_uri`). */
  xdsServer: string;
  /** Default `test-<runtime>-<random>`. */
  nodeId?: string;
  /** Extra bootstrap fields (cluster, locality, metadata, ignoreResourceDeletion). */
  bootstrap?: Omit<GrpcBootstrapOptions, 'serverUri' | 'nodeId'>;
  /** Extra env for the worker, e.g. `{ GRPC_TRACE: 'xds_client,xds_resolver', GRPC_VERBOSITY: 'DEBUG' }`. */
  env?: Record<string, string>;
  /** How long to wait for the worker to load grpc-js-xds; default 15 s. */
  startTimeoutMs?: number;
}

export interface CallOptions {
  /** Per call; default 2000. */
  deadlineMs?: number;
  waitForReady?: boolean;
  /** Ask the greeter to hold each call this long. */
  delayMs?: number;
  /** Request metadata sent with every call, e.g. `{ 'x-canary': '1' }` to take a header-matched route. */
  metadata?: Record<string, string>;
}

export interface LoadOptions extends CallOptions {
  /** Parallel call loops; default 1. */
  concurrency?: number;
  /** Pause between calls of one loop; default 0 (after a failure the worker pauses at least 10 ms). */
  intervalMs?: number;
}

export interface CallFailure {
  /** grpc status code, e.g. 14 UNAVAILABLE, 4 DEADLINE_EXCEEDED. */
  code: number;
  details: string;
}

export interface CallResult {
  /** Successful calls by the instance id that answered. */
  counts: Record<string, number>;
  failures: CallFailure[];
}

export interface LoadRecord {
  /** Date.now() when the call completed. */
  t: number;
  instance: string | null;
  error: CallFailure | null;
}

export interface LoadStats {
  total: number;
  errors: number;
  counts: Record<string, number>;
}

export type ConnectivityState = 'IDLE' | 'CONNECTING' | 'READY' | 'TRANSIENT_FAILURE' | 'SHUTDOWN';

export interface XdsClient extends AsyncDisposable {
  readonly runtime: Runtime;
  readonly nodeId: string;
  readonly pid: number;
  readonly bootstrap: GrpcBootstrap;
  /** Runtime and library versions the worker reported. */
  readonly versions: { runtime: string; version: string; grpcJs: string; grpcJsXds: string };
  /** `count` sequential calls on the worker's channel for `target` (one channel per target, reused). */
  call(target: string, count?: number, opts?: CallOptions): Promise<CallResult>;
  startLoad(target: string, opts?: LoadOptions): Promise<void>;
  /** Stops the load, waits for the calls in flight, returns every record. */
  stopLoad(): Promise<LoadRecord[]>;
  /** Progress of the running load, for waiting on conditions (e.g. "instance b answered") without stopping it. */
  loadStats(): Promise<LoadStats>;
  /** The channel's connectivity state (without making it connect). */
  state(target: string): Promise<ConnectivityState>;
  /** The worker's stderr so far (grpc-js logs; traces if asked for via env). */
  stderr(): string;
  close(): Promise<void>;
}

const WORKER = fileURLToPath(new URL('./xds-client-worker.mjs', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const STDERR_LIMIT = 4 * 1024 * 1024;

/** `process.execPath` is Bun under `bun test`, so node is looked up on PATH. */
export function runtimeBinary(runtime: Runtime): string {
  const isBun = typeof Bun !== 'undefined';
  if (runtime === 'node') {
    const node = isBun ? Bun.which('node') : process.execPath;
    if (!node) throw new Error('node not found on PATH');
    return node;
  }
  return isBun ? process.execPath : `${REPO_ROOT}node_modules/.bin/bun`;
}

type Reply = { id: number; ok: boolean; error?: string } & Record<string, unknown>;

export async function startXdsClient({
  runtime,
  xdsServer,
  nodeId = `test-${runtime}-${randomUUID().slice(0, 8)}`,
  bootstrap: bootstrapOptions = {},
  env = {},
  startTimeoutMs = 15_000,
}: XdsClientOptions): Promise<XdsClient> {
  const bootstrap = grpcBootstrap({ ...bootstrapOptions, serverUri: xdsServer, nodeId });
  const childEnv: Record<string, string | undefined> = { ...process.env };
  // GRPC_XDS_BOOTSTRAP (a file) would win over the config we pass.
  delete childEnv['GRPC_XDS_BOOTSTRAP'];
  Object.assign(childEnv, env, { GRPC_XDS_BOOTSTRAP_CONFIG: JSON.stringify(bootstrap) });

  const child = spawn(runtimeBinary(runtime), [WORKER], { env: childEnv, stdio: ['pipe', 'pipe', 'pipe'], cwd: REPO_ROOT });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr += chunk;
    if (stderr.length > STDERR_LIMIT) stderr = stderr.slice(-STDERR_LIMIT / 2);
  });

  const pending = new Map<number, { resolve(r: Reply): void; reject(e: Error): void }>();
  let exited: { code: number | null; signal: string | null } | undefined;
  let markExited!: () => void;
  const exitedP = new Promise<void>((resolve) => (markExited = resolve));
  const onGone = (what: string) => {
    if (exited) return;
    exited = { code: child.exitCode, signal: child.signalCode };
    const why = new Error(`xds client worker (${runtime}) ${what}\n${tail(stderr)}`);
    for (const p of pending.values()) p.reject(why);
    pending.clear();
    markExited();
  };
  child.once('exit', (code, signal) => onGone(`exited (code ${code}, signal ${signal})`));
  // A failed spawn (e.g. binary missing) emits 'error' and maybe never 'exit'.
  child.once('error', (e) => onGone(`failed: ${e.message}`));
  // Writing to a dead worker: EPIPE here, and the exit handler above already reported why.
  child.stdin.on('error', () => {});

  let ready: ((hello: Record<string, unknown>) => void) | undefined;
  const readyP = new Promise<Record<string, unknown>>((resolve) => (ready = resolve));
  createInterface({ input: child.stdout }).on('line', (line) => {
    let msg: Reply & { event?: string };
    try {
      msg = JSON.parse(line);
    } catch {
      stderr += `\n[harness] non-JSON stdout line: ${line}`;
      return;
    }
    if (msg.event === 'ready') return ready?.(msg);
    const p = pending.get(msg.id);
    if (!p) return;
    pending.delete(msg.id);
    p.resolve(msg);
  });

  let timer: ReturnType<typeof setTimeout> | undefined;
  const hello = await Promise.race([
    readyP,
    exitedP.then(() => Promise.reject(new Error(`xds client worker (${runtime}) exited before ready\n${tail(stderr)}`))),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`xds client worker (${runtime}) not ready after ${startTimeoutMs} ms\n${tail(stderr)}`)), startTimeoutMs);
    }),
  ]).catch((e) => {
    child.kill('SIGKILL');
    throw e;
  }).finally(() => clearTimeout(timer));

  let seq = 0;
  const send = async (cmd: string, args: Record<string, unknown> = {}): Promise<Reply> => {
    if (exited) throw new Error(`xds client worker (${runtime}) already exited\n${tail(stderr)}`);
    const id = ++seq;
    const reply = new Promise<Reply>((resolve, reject) => pending.set(id, { resolve, reject }));
    child.stdin.write(JSON.stringify({ ...args, id, cmd }) + '\n');
    const r = await reply;
    if (!r.ok) throw new Error(`xds client ${cmd}: ${r.error}`);
    return r;
  };

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      if (!exited) {
        void send('exit').catch(() => {});
        const killer = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exitedP;
        clearTimeout(killer);
      }
    })());

  return {
    runtime,
    nodeId,
    pid: child.pid ?? -1,
    bootstrap,
    versions: {
      runtime: String(hello['runtime']),
      version: String(hello['version']), grpcJs: String(hello['grpcJs']),
      grpcJsXds: String(hello['grpcJsXds']),
    },
    call: async (target, count = 1, opts = {}) => {
      const r = await send('call', { target, count, ...opts });
      return { counts: r['counts'] as CallResult['counts'], failures: r['failures'] as CallFailure[] };
    },
    startLoad: async (target, opts = {}) => {
      await send('start-load', { target, ...opts });
    },
    stopLoad: async () => (await send('stop-load'))['records'] as LoadRecord[],
    loadStats: async () => {
      const r = await send('load-stats');
      return { total: r['total'] as number, errors: r['errors'] as number, counts: r['counts'] as LoadStats['counts'] };
    },
    state: async (target) => (await send('state', { target }))['state'] as ConnectivityState,
    stderr: () => stderr,
    close,
    [Symbol.asyncDispose]: close,
  };
}

const tail = (s: string, n = 4000) => (s.length > n ? '…' + s.slice(-n) : s) || '(no stderr)';
