// One readable line per log record: `12:00:01 feature   INFO  consumer joined group=feature-service`.
// Services print pino JSON; pino-pretty would print the extra fields as an object or on
// following lines, so this small formatter keeps everything on one key=value line.
import { styleText } from 'node:util';
import { SERVICE_NAMES, type ServiceName } from './services.js';

type Style = Parameters<typeof styleText>[0];

export interface LogFormatOptions {
  /** Width of the service column (the longest service name). */
  serviceWidth?: number;
  /** ANSI colours: only when writing to a terminal. */
  colors?: boolean;
  /** Show clock times in UTC instead of the local zone (tests). */
  utc?: boolean;
  /** Time for lines that carry none (non-JSON output). */
  now?: () => Date;
}

/** A pino record as the services print it (level as a label, ISO time). */
export interface LogRecord {
  level?: string | number;
  time?: string | number;
  msg?: string;
  [field: string]: unknown;
}

const PINO_LEVELS: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };
const LEVEL_STYLES: Record<string, Style[]> = {
  trace: ['gray'],
  debug: ['gray'],
  info: ['green'],
  warn: ['yellow'],
  error: ['red'],
  fatal: ['red', 'bold'],
};
const SERVICE_STYLES: Style[] = ['cyan', 'magenta', 'blue', 'yellow', 'green', 'white'];
/** Fields shown elsewhere on the line, or noise in a combined log. */
const HIDDEN_FIELDS = new Set(['level', 'time', 'msg', 'service', 'pid', 'hostname', 'v']);

/** Parses one output line as a pino record; null when it is not one (plain text, a stack trace). */
export function parseLogRecord(line: string): LogRecord | null {
  if (!line.startsWith('{')) return null;
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as LogRecord) : null;
  } catch {
    return null;
  }
}

export function levelName(level: LogRecord['level']): string {
  if (typeof level === 'number') return PINO_LEVELS[level] ?? String(level);
  return level ?? 'info';
}

function paint(text: string, styles: readonly Style[] | undefined, colors: boolean): string {
  if (!colors || !styles) return text;
  // validateStream: false — whether to colour is decided here (by the caller), not by process.stdout.
  return styles.reduce((out, style) => styleText(style, out, { validateStream: false }), text);
}

function clock(time: LogRecord['time'], options: LogFormatOptions): string {
  const parsed = time === undefined ? (options.now ?? (() => new Date()))() : new Date(time);
  const date = Number.isNaN(parsed.getTime()) ? new Date() : parsed;
  const parts = options.utc
    ? [date.getUTCHours(), date.getUTCMinutes(), date.getUTCSeconds()]
    : [date.getHours(), date.getMinutes(), date.getSeconds()];
  return parts.map((n) => String(n).padStart(2, '0')).join(':');
}

/** `key=value`, quoting strings that would be ambiguous and writing objects as compact JSON. */
export function formatValue(value: unknown): string {
  if (typeof value === 'string') return value === '' || /[\s"=]/.test(value) ? JSON.stringify(value) : value;
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  if (value === undefined) return 'undefined';
  return JSON.stringify(value);
}

function errorText(err: unknown): { inline: string; stack: string[] } {
  if (typeof err !== 'object' || err === null) return { inline: formatValue(err), stack: [] };
  const { type, message, stack } = err as { type?: unknown; message?: unknown; stack?: unknown };
  const head = [typeof type === 'string' ? type : 'Error', typeof message === 'string' ? message : ''].filter(Boolean).join(': ');
  // The stack's first line repeats the message; the frames are what helps.
  const frames = typeof stack === 'string' ? stack.split('\n').filter((l) => /^\s+at /.test(l)).map((l) => l.trim()) : [];
  return { inline: JSON.stringify(head), stack: frames };
}

/**
 * Formats one line a service printed. JSON records become `time service LEVEL msg k=v`;
 * anything else is shown as it came, under the same prefix. Error stacks follow on
 * indented lines for error and fatal records.
 */
export function formatLogLine(service: string, line: string, options: LogFormatOptions = {}): string {
  const colors = options.colors ?? false;
  const width = options.serviceWidth ?? service.length;
  const name = paint(service.padEnd(width), [serviceStyle(service)], colors);
  const record = parseLogRecord(line);
  if (!record) return `${clock(undefined, options)} ${name} ${' '.repeat(5)}  ${line}`;

  const level = levelName(record.level);
  const fields: string[] = [];
  let stack: string[] = [];
  for (const [key, value] of Object.entries(record)) {
    if (HIDDEN_FIELDS.has(key)) continue;
    if (key === 'err' || key === 'error') {
      const err = errorText(value);
      fields.push(`${key}=${err.inline}`);
      if (level === 'error' || level === 'fatal') stack = err.stack;
      continue;
    }
    fields.push(`${key}=${formatValue(value)}`);
  }
  const message = typeof record.msg === 'string' ? record.msg : '';
  const tail = [message, ...fields.map((f) => paint(f, ['dim'], colors))].filter(Boolean).join(' ');
  const head = `${clock(record.time, options)} ${name} ${paint(level.toUpperCase().padEnd(5), LEVEL_STYLES[level], colors)}  ${tail}`;
  const indent = ' '.repeat(9 + width + 1 + 5 + 2);
  return [head, ...stack.map((frame) => `${indent}${paint(frame, ['dim'], colors)}`)].join('\n');
}

/** A fixed colour per known service, so a service keeps its colour from run to run. */
function serviceStyle(service: string): Style {
  const known = SERVICE_NAMES.indexOf(service as ServiceName);
  const index = known >= 0 ? known : [...service].reduce((sum, c) => sum + c.charCodeAt(0), 0);
  return SERVICE_STYLES[index % SERVICE_STYLES.length]!;
}

/** Whether to colour output written to `stream` (a terminal that supports it, NO_COLOR/FORCE_COLOR respected). */
export function wantsColors(stream: NodeJS.WritableStream & { isTTY?: boolean; hasColors?: () => boolean }): boolean {
  return stream.isTTY === true && typeof stream.hasColors === 'function' ? stream.hasColors() : false;
}
