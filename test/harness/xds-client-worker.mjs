// A real proxyless gRPC client process for the tests: @grpc/grpc-js + @grpc/grpc-js-xds, driven over stdio.
// Plain ESM JavaScript so the same file runs under `node` and `bun`; it loads protos/greeter.proto itself.
//
// Protocol: one JSON command per stdin line, exactly one JSON reply per command on stdout, carrying its `id`.
// First line out is `{"event":"ready",...}` once grpc-js-xds is registered. stderr is free-form (grpc-js logs).
//   {id, cmd:'call', target, count=1, deadlineMs=2000, waitForReady=false, delayMs?, metadata?:{[key]: string}}
//       → {id, ok:true, counts:{[instance]: n}, failures:[{code, details}]}          (sequential calls)
//   {id, cmd:'start-load', target, concurrency=1, deadlineMs=2000, waitForReady=false, delayMs?, metadata?, intervalMs=0}
//       → {id, ok:true}; calls run until stop-load, each recorded as {t, instance|null, error:{code,details}|null}
//   {id, cmd:'stop-load'} → {id, ok:true, records:[...]}    (waits for the calls in flight)
//   {id, cmd:'load-stats'} → {id, ok:true, total, errors, counts:{[instance]: n}}   (the running load so far)
//   {id, cmd:'state', target} → {id, ok:true, state:'IDLE'|'CONNECTING'|'READY'|'TRANSIENT_FAILURE'|'SHUTDOWN'}
//   {id, cmd:'exit'} → {id, ok:true}, then the process exits (commands still running are abandoned).
//   stdin closing (the parent died) also exits.
// Bootstrap: env GRPC_XDS_BOOTSTRAP_CONFIG (set by the parent). Traces: grpc-js's own GRPC_TRACE/GRPC_VERBOSITY.
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

// require(), not import: grpc-js-xds require()s @grpc/grpc-js, and the resolver it registers must land in the
// same module instance the channels below are made from.
const require = createRequire(import.meta.url);
const grpc = require('@grpc/grpc-js');
const protobuf = require('protobufjs');
require('@grpc/grpc-js-xds').register();

const PROTO_PATH = fileURLToPath(new URL('../../protos/greeter.proto', import.meta.url));
const root = protobuf.loadSync(PROTO_PATH);
const HelloRequest = root.lookupType('switchyard.demo.v1.HelloRequest');
const HelloReply = root.lookupType('switchyard.demo.v1.HelloReply');
const SAY_HELLO = '/switchyard.demo.v1.Greeter/SayHello';
const serialize = (value) => Buffer.from(HelloRequest.encode(HelloRequest.fromObject(value)).finish());
const deserialize = (bytes) => HelloReply.toObject(HelloReply.decode(bytes), { defaults: true });

const write = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');
const log = (msg) => process.stderr.write(`[xds-client-worker ${process.pid}] ${msg}\n`);

/** One channel per target, kept for the life of the worker, so xDS and LB state carry over between commands. */
const clients = new Map();
function clientFor(target) {
  let client = clients.get(target);
  if (!client) {
    client = new grpc.Client(target, grpc.credentials.createInsecure());
    clients.set(target, client);
  }
  return client;
}

/**
 * Resolves, never rejects: {instance} or {error:{code, details}}. `metadata` is sent as request metadata, e.g.
 * `{ 'x-canary': '1' }` to take a header-matched route.
 */
function sayHello(target, { deadlineMs = 2000, waitForReady = false, delayMs, metadata: extra = {} } = {}) {
  return new Promise((resolve) => {
    try {
      const metadata = new grpc.Metadata({ waitForReady });
      for (const [key, value] of Object.entries(extra)) metadata.set(key, String(value));
      if (delayMs !== undefined) metadata.set('x-delay-ms', String(delayMs));
      clientFor(target).makeUnaryRequest(
        SAY_HELLO,
        serialize,
        deserialize,
        { name: 'xds-client-worker' },
        metadata,
        { deadline: Date.now() + deadlineMs },
        (err, reply) =>
          err
            ? resolve({ error: { code: err.code ?? grpc.status.UNKNOWN, details: err.details ?? err.message } })
            : resolve({ instance: reply.instance }),
      );
    } catch (e) {
      resolve({ error: { code: grpc.status.INTERNAL, details: `client threw: ${e?.message ?? e}` } });
    }
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// After a failure the load loop pauses at least this long, so fail-fast errors do not spin the CPU.
const ERROR_PAUSE_MS = 10;

let load = null;

const commands = {
  async call({ target, count = 1, ...opts }) {
    const counts = {};
    const failures = [];
    for (let i = 0; i < count; i++) {
      const r = await sayHello(target, opts);
      if (r.error) failures.push(r.error);
      else counts[r.instance] = (counts[r.instance] ?? 0) + 1;
    }
    return { counts, failures };
  },

  async 'start-load'({ target, concurrency = 1, intervalMs = 0, ...opts }) {
    if (load) throw new Error('a load is already running; stop-load first');
    const records = [];
    const state = { running: true, records, loops: [] };
    for (let i = 0; i < concurrency; i++) {
      state.loops.push(
        (async () => {
          while (state.running) {
            const r = await sayHello(target, opts);
            records.push({ t: Date.now(), instance: r.instance ?? null, error: r.error ?? null });
            const pause = r.error ? Math.max(intervalMs, ERROR_PAUSE_MS) : intervalMs;
            if (pause > 0 && state.running) await sleep(pause);
          }
        })(),
      );
    }
    load = state;
    return {};
  },

  async 'stop-load'() {
    if (!load) throw new Error('no load running');
    const state = load;
    load = null;
    state.running = false;
    await Promise.all(state.loops);
    return { records: state.records };
  },

  async 'load-stats'() {
    if (!load) throw new Error('no load running');
    const counts = {};
    let errors = 0;
    for (const r of load.records) {
      if (r.error) errors++;
      else counts[r.instance] = (counts[r.instance] ?? 0) + 1;
    }
    return { total: load.records.length, errors, counts };
  },

  async state({ target }) {
    return { state: grpc.connectivityState[clientFor(target).getChannel().getConnectivityState(false)] };
  },

  async exit() {
    return {};
  },
};

async function handle(line) {
  let msg;
  try {
    msg = JSON.parse(line);
  } catch (e) {
    write({ id: null, ok: false, error: `bad JSON: ${e.message}` });
    return;
  }
  const { id, cmd } = msg;
  const run = Object.hasOwn(commands, cmd) ? commands[cmd] : undefined;
  if (!run) {
    write({ id, ok: false, error: `unknown cmd ${JSON.stringify(cmd)}` });
    return;
  }
  try {
    write({ id, ok: true, ...(await run(msg)) });
  } catch (e) {
    write({ id, ok: false, error: e?.message ?? String(e) });
  }
  if (cmd === 'exit') shutdown(0);
}

function shutdown(code) {
  if (load) load.running = false;
  for (const c of clients.values()) c.close();
  // Exit only once stdout has flushed the last reply.
  process.stdout.write('', () => process.exit(code));
}

// A bug in here must not take the client down mid-test: report it on stderr and keep serving.
process.on('uncaughtException', (e) => log(`uncaught: ${e?.stack ?? e}`));
process.on('unhandledRejection', (e) => log(`unhandled rejection: ${e?.stack ?? e}`));

const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  if (line.trim() !== '') void handle(line);
});
rl.on('close', () => shutdown(0));

write({
  event: 'ready',
  pid: process.pid,
  runtime: typeof Bun !== 'undefined' ? 'bun' : 'node',
  version: typeof Bun !== 'undefined' ? Bun.version : process.version,
  grpcJs: require('@grpc/grpc-js/package.json').version,
  grpcJsXds: require('@grpc/grpc-js-xds/package.json').version,
});
