/**
 * The order service's configuration: the shared service, PostgreSQL, Redis and Kafka variables
 * plus its own, validated once at start by `loadConfig` (a bad value stops the process naming it).
 * Exported apart from main.ts so that what reads the environment can be checked without starting
 * the service (tests/compose.int.test.ts holds docker-compose.yml to it).
 */
import { type ConfigShape, env, kafkaConfig, postgresConfig, redisConfig, serviceConfig, tlsClientConfig, tlsServerConfig } from "@hft/service-kit";

/** The projection's topics' default names; PROJECTION_ORDERS_TOPIC and PROJECTION_EXECUTIONS_TOPIC rename them. */
export const ORDERS_TOPIC = "hft.orders.v1";
export const EXECUTIONS_TOPIC = "hft.executions.v1";

export const orderConfigShape = {
  ...serviceConfig,
  ...postgresConfig,
  ...redisConfig,
  ...kafkaConfig,
  // TLS on the gRPC and metrics listeners (TLS_CLIENT_CA_FILE: client certificates required) and
  // to the engines (TLS_CA_FILE; mutual TLS with TLS_CLIENT_CERT_FILE and TLS_CLIENT_KEY_FILE).
  ...tlsServerConfig,
  ...tlsClientConfig,
  ORDER_SERVICE_LISTEN: env.hostPort().default("127.0.0.1:50061"),
  ORDER_SERVICE_METRICS_LISTEN: env.hostPort().default("127.0.0.1:9465"),
  ENGINE_SHARDS: env.text().default("default=127.0.0.1:50051@1"),
  AUTH_ISSUER: env.text(),
  AUTH_AUDIENCE: env.text(),
  AUTH_HS256_SECRET: env.secret(32).optional(),
  AUTH_JWKS_FILE: env.text().optional(),
  PAGE_TOKEN_KEY: env.secret(32),
  PROJECTION_LOCK_KEY: env.int(1, 2 ** 31 - 1).default(727_001),
  PROJECTION_ORDERS_TOPIC: env.text().default(ORDERS_TOPIC),
  PROJECTION_EXECUTIONS_TOPIC: env.text().default(EXECUTIONS_TOPIC),
  REDIS_KEY_PREFIX: env.text().default("hft:"),
} satisfies ConfigShape;
