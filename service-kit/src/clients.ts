import * as grpc from "@grpc/grpc-js";
import { Kafka, logLevel, type KafkaConfig } from "kafkajs";
import { Redis, type RedisOptions } from "ioredis";
import pg from "pg";
import type { Logger } from "./logger.js";
import type { ClientTls } from "./tls.js";

export interface PostgresPoolOptions {
  readonly url: string;
  readonly max: number;
  /** `application_name` seen in pg_stat_activity. */
  readonly applicationName: string;
  readonly logger?: Logger;
  /**
   * The longest a query may wait for its answer, in ms; none by default. A connection that stops
   * answering without being closed (a network that drops everything) otherwise holds its query,
   * and whatever awaits it, forever.
   */
  readonly queryTimeoutMs?: number;
}

/**
 * Creates a PostgreSQL pool. numeric and bigint columns come back as strings (pg's default), so
 * money and quantities are never squeezed through floating point.
 */
export function createPostgresPool(options: PostgresPoolOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.max,
    application_name: options.applicationName,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    ...(options.queryTimeoutMs !== undefined ? { query_timeout: options.queryTimeoutMs } : {}),
  });
  // An idle client that loses its connection emits here; without a listener it would crash the process.
  pool.on("error", (err) => options.logger?.warn({ err }, "idle PostgreSQL client failed"));
  // A checked-out client has no listener of the pool's: one that loses its connection between two
  // queries (PostgreSQL restarting while a transaction waits for Kafka, say) would emit an unhandled
  // 'error' and end the process. With this one its next query fails instead, and the pool drops it
  // on release.
  pool.on("connect", (client) => client.on("error", (err) => options.logger?.warn({ err }, "PostgreSQL client lost its connection")));
  return pool;
}

/** SQLSTATEs and socket errors of a server that cannot be reached or dropped the session. */
const UNREACHABLE_CODES = new Set(["57P01", "57P02", "57P03", "53300", "ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "EHOSTUNREACH"]);
const UNREACHABLE_MESSAGES = /Connection terminated|connection error and is not queryable|timeout exceeded when trying to connect|Query read timeout/;

/**
 * Whether a PostgreSQL failure says the database was out of reach (down, restarting, the connection
 * lost or not made in time) rather than that it refused the statement: worth a retry, answered as
 * UNAVAILABLE rather than as an internal error. Covers SQLSTATE class 08, admin and crash
 * shutdown, "cannot connect now" (starting up), too many connections, and pg's own socket errors.
 */
export function isPostgresUnreachable(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (typeof code === "string" && (code.startsWith("08") || UNREACHABLE_CODES.has(code))) return true;
  return typeof message === "string" && UNREACHABLE_MESSAGES.test(message);
}

export interface RedisClientOptions extends Pick<RedisOptions, "lazyConnect" | "maxRetriesPerRequest"> {
  readonly url: string;
  readonly logger?: Logger;
}

/** Creates an ioredis client that reconnects with backoff and reports connection errors once each. */
export function createRedisClient(options: RedisClientOptions): Redis {
  const { url, logger, ...rest } = options;
  const client = new Redis(url, {
    enableAutoPipelining: true,
    retryStrategy: (attempt) => Math.min(attempt * 100, 2_000),
    ...rest,
  });
  client.on("error", (err) => logger?.warn({ err: err.message }, "Redis connection error"));
  return client;
}

export interface KafkaClientOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly logger?: Logger;
}

/** Creates a kafkajs client whose own log lines go through the service logger. */
export function createKafkaClient(options: KafkaClientOptions): Kafka {
  const config: KafkaConfig = {
    clientId: options.clientId,
    brokers: [...options.brokers],
    logLevel: logLevel.WARN,
    retry: { retries: 8, initialRetryTime: 100, maxRetryTime: 5_000 },
  };
  const logger = options.logger;
  if (logger) {
    config.logCreator = () => ({ level, log }) => {
      const { message, ...extra } = log;
      const line = { ...extra, kafkaNamespace: log.namespace };
      if (level === logLevel.ERROR) logger.error(line, message);
      else if (level === logLevel.WARN) logger.warn(line, message);
      else logger.debug(line, message);
    };
  }
  return new Kafka(config);
}

/**
 * The credentials of an internal gRPC client: TLS verifying the server against `tls.ca` under the
 * host of the address dialed (so a server's certificate must name that host or IP), presenting
 * `tls.cert` when set (mutual TLS); plaintext without `tls`.
 */
export function grpcChannelCredentials(tls?: ClientTls): grpc.ChannelCredentials {
  if (!tls) return grpc.credentials.createInsecure();
  return grpc.credentials.createSsl(tls.ca, tls.key ?? null, tls.cert ?? null);
}
