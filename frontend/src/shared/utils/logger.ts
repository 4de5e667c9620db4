// The one place the UI writes diagnostics: levels, a bounded in-memory ring the status bar and
// tests can read, and the browser console only for warnings and errors in production builds.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface LogEntry {
  level: LogLevel;
  message: string;
  context?: Record<string, unknown>;
  at: number;
}

const order: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const RING_SIZE = 200;
const ring: LogEntry[] = [];
let threshold: LogLevel = import.meta.env.PROD ? 'warn' : 'debug';

function emit(level: LogLevel, message: string, context?: Record<string, unknown>): void {
  const entry: LogEntry = context === undefined ? { level, message, at: Date.now() } : { level, message, context, at: Date.now() };
  ring.push(entry);
  if (ring.length > RING_SIZE) ring.shift();
  if (order[level] < order[threshold] || import.meta.env.MODE === 'test') return;
  const sink = globalThis.console;
  const args: unknown[] = context === undefined ? [`[powernode] ${message}`] : [`[powernode] ${message}`, context];
  if (level === 'error') sink.error(...args);
  else if (level === 'warn') sink.warn(...args);
  else sink.info(...args);
}

export const logger = {
  debug: (message: string, context?: Record<string, unknown>): void => emit('debug', message, context),
  info: (message: string, context?: Record<string, unknown>): void => emit('info', message, context),
  warn: (message: string, context?: Record<string, unknown>): void => emit('warn', message, context),
  error: (message: string, context?: Record<string, unknown>): void => emit('error', message, context),
  setLevel(level: LogLevel): void {
    threshold = level;
  },
  recent(): readonly LogEntry[] {
    return ring.slice();
  },
};

/** A message for an unknown thrown value, for logs and notifications. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === 'string') return err;
  return 'Unexpected error';
}
