/** The part of a pino logger this package uses; pass a pino instance or anything alike. */
export interface Logger {
  debug(obj: unknown, msg?: string): void;
  info(obj: unknown, msg?: string): void;
  warn(obj: unknown, msg?: string): void;
  error(obj: unknown, msg?: string): void;
}

const noop = (): void => undefined;

/** Default logger: says nothing. */
export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop };
