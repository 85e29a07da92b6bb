/**
 * The analytics service's configuration: the shared service, PostgreSQL and Kafka variables plus
 * its own, validated once at start by `loadConfig` (a bad value stops the process naming it).
 * The rebuild command reads the same variables, so it rebuilds what the service serves.
 */
import { type ConfigShape, env, kafkaConfig, postgresConfig, serviceConfig, tlsServerConfig } from "@hft/service-kit";

export const analyticsConfigShape = {
  ...serviceConfig,
  ...postgresConfig,
  ...kafkaConfig,
  // TLS on the gRPC and metrics listeners; with TLS_CLIENT_CA_FILE, client certificates required.
  ...tlsServerConfig,
  ANALYTICS_SERVICE_LISTEN: env.hostPort().default("127.0.0.1:50071"),
  ANALYTICS_SERVICE_METRICS_LISTEN: env.hostPort().default("127.0.0.1:9466"),
  // The order service's executions topic and this service's consumer group.
  ANALYTICS_TOPIC: env.text().default("hft.executions.v1"),
  ANALYTICS_GROUP_ID: env.text().default("hft-analytics"),
  // Upper bound of one batch (one PostgreSQL transaction) per partition, in bytes: 1 MiB.
  ANALYTICS_MAX_BATCH_BYTES: env.int(1_024, 64 << 20).default(1 << 20),
  // How long the group waits for a member that stopped heartbeating (a crash) before its
  // partitions move, in ms: 30 s. Kafka accepts 6 s to 5 min by default.
  ANALYTICS_SESSION_TIMEOUT_MS: env.int(6_000, 300_000).default(30_000),
  AUTH_ISSUER: env.text(),
  AUTH_AUDIENCE: env.text(),
  AUTH_HS256_SECRET: env.secret(32).optional(),
  AUTH_JWKS_FILE: env.text().optional(),
} satisfies ConfigShape;
