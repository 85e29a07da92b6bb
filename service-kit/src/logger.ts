import { pino, type Logger } from "pino";

export type { Logger } from "pino";

export interface LoggerOptions {
  /** The service name, on every line as `service`. */
  readonly service: string;
  /** The minimum level written. */
  readonly level: string;
  /** Human-readable lines instead of JSON (development on a terminal only). */
  readonly pretty?: boolean;
}

/** Fields that may carry credentials: never written, whatever the caller logs. */
const redactedPaths = [
  "password",
  "*.password",
  "token",
  "*.token",
  "authorization",
  "*.authorization",
  "headers.authorization",
  "*.headers.authorization",
  "metadata.authorization",
  "secret",
  "*.secret",
];

/**
 * Creates the process logger: pino JSON on stdout with `service` on every line and credentials
 * redacted. Request and trace ids are added by child loggers where a request is handled.
 */
export function createLogger(options: LoggerOptions): Logger {
  return pino({
    name: options.service,
    level: options.level,
    base: { service: options.service, pid: process.pid },
    redact: { paths: redactedPaths, censor: "[redacted]" },
    timestamp: pino.stdTimeFunctions.isoTime,
    ...(options.pretty ? { transport: { target: "pino-pretty", options: { colorize: true, translateTime: "SYS:HH:MM:ss.l" } } } : {}),
  });
}
