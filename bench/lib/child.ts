/**
 * Child processes that speak JSON lines: the driver writes commands on stdin, the child answers on stdout
 * (stderr is passed through). A command with `re` gets the reply carrying the same `re`. Every child is
 * SIGKILLed when the driver exits, however it exits.
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { pinnedCommand } from './cpu-pin.ts';

export type Message = { kind: string; [k: string]: any };

const live = new Set<ChildProcess>();
let hooked = false;
function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.once('exit', () => {
    for (const c of live) c.kill('SIGKILL');
  });
  // Ctrl-C / kill: run the exit hooks (children, etcd, temp dirs) before going.
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(130));
}

export interface JsonChild {
  readonly pid: number;
  readonly name: string;
  send(msg: object): void;
  /** Sends `msg` with a fresh `re` and resolves with the reply; rejects after `timeoutMs`. */
  request<T extends Message = Message>(msg: object, timeoutMs?: number): Promise<T>;
  /** Every message of `kind`; returns the unsubscribe function. */
  on(kind: string, handler: (m: Message) => void): () => void;
  /** The next message matching `match` after this call; rejects after `timeoutMs` naming `what`. */
  next(match: (m: Message) => boolean, timeoutMs: number, what: string): Promise<Message>;
  /** Ends stdin (the child's cue to clean up and exit), waits up to `timeoutMs`, then SIGKILLs. */
  stop(timeoutMs?: number): Promise<number | null>;
  readonly exited: Promise<number | null>;
}

export interface SpawnOptions {
  name: string;
  /** Pin to this core with taskset (when pinning is possible and `pin` is true). */
  core?: number;
  pin?: boolean;
  env?: Record<string, string>;
  /** Called when the child exits before stop(); the bench usually fails then. */
  onUnexpectedExit?: (code: number | null, signal: string | null) => void;
}

export function spawnJsonChild(argv: readonly string[], opts: SpawnOptions): JsonChild {
  hookExit();
  const full = opts.pin && opts.core !== undefined ? pinnedCommand(opts.core, argv) : [...argv];
  const child = spawn(full[0]!, full.slice(1), { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, ...opts.env } });
  live.add(child);
  let stopping = false;
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code, signal) => {
      live.delete(child);
      if (!stopping) opts.onUnexpectedExit?.(code, signal);
      resolve(code);
    }),
  );
  const handlers = new Map<string, Set<(m: Message) => void>>();
  const waiters = new Set<(m: Message) => boolean>();
  const replies = new Map<number, (m: Message) => void>();
  let nextRe = 0;
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (!line.startsWith('{')) {
      process.stderr.write(`[${opts.name}] ${line}\n`);
      return;
    }
    const m = JSON.parse(line) as Message;
    if (typeof m.re === 'number') {
      const r = replies.get(m.re);
      if (r) {
        replies.delete(m.re);
        r(m);
      }
    }
    for (const h of handlers.get(m.kind) ?? []) h(m);
    for (const w of waiters) if (w(m)) waiters.delete(w);
  });
  child.stdin!.on('error', () => {}); // EPIPE after the child died: the exit handler reports it

  const send = (msg: object) => {
    if (child.exitCode === null && child.signalCode === null) child.stdin!.write(JSON.stringify(msg) + '\n');
  };
  return {
    pid: child.pid!,
    name: opts.name,
    send,
    request<T extends Message>(msg: object, timeoutMs = 60_000): Promise<T> {
      const re = ++nextRe;
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          replies.delete(re);
          reject(new Error(`${opts.name}: no reply to ${JSON.stringify(msg).slice(0, 80)} within ${timeoutMs} ms`));
        }, timeoutMs);
        replies.set(re, (m) => {
          clearTimeout(timer);
          if (m.kind === 'error') reject(new Error(`${opts.name}: ${m.message}`));
          else resolve(m as T);
        });
        send({ ...msg, re });
      });
    },
    on(kind, handler) {
      let set = handlers.get(kind);
      if (!set) handlers.set(kind, (set = new Set()));
      set.add(handler);
      return () => set.delete(handler);
    },
    next(match, timeoutMs, what) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(w);
          reject(new Error(`${opts.name}: timed out after ${timeoutMs} ms waiting for ${what}`));
        }, timeoutMs);
        const w = (m: Message) => {
          if (!match(m)) return false;
          clearTimeout(timer);
          resolve(m);
          return true;
        };
        waiters.add(w);
      });
    },
    async stop(timeoutMs = 10_000) {
      if (stopping) return exited;
      stopping = true;
      child.stdin!.end();
      const kill = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const code = await exited;
      clearTimeout(kill);
      return code;
    },
    exited,
  };
}

/**
 * Reads JSON-line commands from stdin (child side) and resolves when stdin ends. Handlers run
 * concurrently (a long one does not hold up a ping); a throw or rejection is replied as `kind: 'error'`.
 */
export async function serveStdin(handle: (msg: any) => unknown): Promise<void> {
  for await (const line of createInterface({ input: process.stdin })) {
    if (!line.trim()) continue;
    const msg = JSON.parse(line);
    const fail = (e: unknown) => emit({ kind: 'error', re: msg.re, message: e instanceof Error ? e.message : String(e) });
    try {
      const r = handle(msg);
      if (r instanceof Promise) r.catch(fail);
    } catch (e) {
      fail(e);
    }
  }
}

/** One JSON line on stdout (child side). */
export const emit = (m: Message): void => void process.stdout.write(JSON.stringify(m) + '\n');
