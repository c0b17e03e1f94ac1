/**
 * The `switchyard` command. Nothing imports this file: it is the process entry (see bin/switchyard).
 * @module
 */
import { parseConfig } from '../config/index.ts';
import { Code, SwitchyardError, errorMessage } from '../lib/errors.ts';
import { createLogger, type LogLevel, type Logger } from '../lib/logger.ts';
import { runBootstrap } from './bootstrap.ts';
import { createResources, type Resources } from './resources.ts';
import type { Output } from './serve.ts';
import { onShutdownSignal } from './signals.ts';
import { usage } from './usage.ts';

/** Exit codes: 0 ok, 1 runtime failure, 2 usage error. */
async function main(argv: readonly string[], env: Record<string, string | undefined>): Promise<number> {
  const parsed = parseConfig(argv, env);
  if (!parsed.ok) {
    for (const e of parsed.errors) process.stderr.write(`switchyard: ${e}\n`);
    process.stderr.write(`Run 'switchyard help' for usage.\n`);
    return 2;
  }
  const config = parsed.value;
  switch (config.command) {
    case 'help':
      process.stdout.write(usage(config.topic));
      return 0;
    case 'version': {
      const pkg = (await Bun.file(new URL('../../package.json', import.meta.url)).json()) as { version: string };
      process.stdout.write(`switchyard ${pkg.version}\n`);
      return 0;
    }
    case 'bootstrap':
      runBootstrap(config);
      return 0;
    case 'serve':
      return runUntilSignal(config.logLevel, 'serve', async (deps) => (await import('./serve.ts')).runServe(config, deps));
    case 'register':
      // The registrar checks the service name and fields before touching etcd: a mistake there is a usage error.
      return runUntilSignal(config.logLevel, 'register', async (deps) => (await import('./register.ts')).runRegister(config, deps), {
        badInputIsUsage: true,
      });
  }
}

/**
 * Runs a command that keeps running until SIGINT/SIGTERM, which stops everything it added to `resources`.
 * Returns -1 to keep running, 1 when it fails to start, or 2 with `badInputIsUsage` for an INVALID_ARGUMENT error.
 */
async function runUntilSignal(
  logLevel: LogLevel,
  name: string,
  // Loaded lazily, so `bootstrap` and `help` (often run inside $(...)) skip loading gRPC, etcd3 and protos.
  run: (deps: { resources: Resources; logger: Logger; out: Output }) => Promise<void>,
  { badInputIsUsage = false } = {},
): Promise<number> {
  const logger = createLogger({ level: logLevel });
  const resources = createResources(logger);
  const out: Output = {
    print: (line) => process.stdout.write(line + '\n'),
    warn: (line) => process.stderr.write(line + '\n'),
  };
  onShutdownSignal(logger, async () => ((await resources.close()) ? 0 : 1));
  try {
    await run({ resources, logger, out });
  } catch (e) {
    if (resources.closing) return -1; // a signal is shutting down; its handler exits.
    const badInput = badInputIsUsage && e instanceof SwitchyardError && e.code === Code.InvalidArgument;
    if (badInput) process.stderr.write(`switchyard: ${e.message}\nRun 'switchyard help ${name}' for usage.\n`);
    else logger.error(`${name} failed: ${errorMessage(e)}`);
    await resources.close();
    return badInput ? 2 : 1;
  }
  return -1; // keep running until a signal
}

const code = await main(process.argv.slice(2), process.env);
if (code >= 0) process.exit(code);
