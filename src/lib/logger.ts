export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };
export const LOG_LEVELS = Object.keys(rank) as LogLevel[];

/** Line-per-event logger: `2026-11-25T11:00:00.000Z warn  registry: rejected key {"key":"..."}`. */
export function createLogger({
  level = 'info',
  write = (line: string) => process.stderr.write(line + '\n'),
  scope = '',
}: { level?: LogLevel; write?: (line: string) => void; scope?: string } = {}): Logger & {
  child(scope: string): Logger;
} {
  const emit = (l: Exclude<LogLevel, 'silent'>) => (msg: string, fields?: LogFields) => {
    if (rank[l] < rank[level]) return;
    const f = fields && Object.keys(fields).length > 0 ? ' ' + JSON.stringify(fields) : '';
    write(`${new Date().toISOString()} ${l.padEnd(5)} ${scope ? scope + ': ' : ''}${msg}${f}`);
  };
  return {
    debug: emit('debug'),
    info: emit('info'),
    warn: emit('warn'),
    error: emit('error'),
    child: (s: string) => createLogger({ level, write, scope: scope ? `${scope}/${s}` : s }),
  };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
