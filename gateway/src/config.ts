/**
 * The gateway's configuration: the shared service and Redis variables plus its own, validated once
 * at start by `loadConfig` (a bad value stops the process naming it).
 */
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { type ConfigOf, type ConfigShape, env, redisConfig, serviceConfig, tlsClientConfig, tlsServerConfig } from "@hft/service-kit";

/** A comma-separated list of origins (`scheme://host[:port]`), or empty for none. */
const origins = () =>
  z
    .string({ error: "expected origins like https://app.example.com, comma-separated" })
    .transform((value) => value.split(",").map((part) => part.trim()).filter(Boolean))
    .pipe(z.array(z.string().regex(/^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?$|^\*$/, { error: "expected origins like https://app.example.com (no path), comma-separated" })));

export const gatewayConfigShape = {
  ...serviceConfig,
  ...redisConfig,
  // One port for Connect, gRPC, gRPC-Web (HTTP/2 cleartext and HTTP/1.1), REST/JSON and /ws.
  GATEWAY_LISTEN: env.hostPort().default("127.0.0.1:8080"),
  // The backends, over gRPC (HTTP/2 with keep-alive pings).
  GATEWAY_ORDER_SERVICE: env.hostPort().default("127.0.0.1:50061"),
  GATEWAY_MARKET_DATA_SERVICE: env.hostPort().default("127.0.0.1:50061"),
  GATEWAY_ANALYTICS_SERVICE: env.hostPort().default("127.0.0.1:50071"),
  // TLS on the public port (HTTP/2 and HTTP/1.1 by ALPN; clients present no certificate) and to
  // the backends (TLS_CA_FILE; mutual TLS with TLS_CLIENT_CERT_FILE and TLS_CLIENT_KEY_FILE).
  TLS_CERT_FILE: tlsServerConfig.TLS_CERT_FILE,
  TLS_KEY_FILE: tlsServerConfig.TLS_KEY_FILE,
  ...tlsClientConfig,
  // Origins allowed by CORS; empty: no cross-origin browser calls.
  GATEWAY_CORS_ORIGINS: origins().default([]),
  // Requests per identity (token subject, or client address without a token) per window.
  GATEWAY_RATE_LIMIT: env.int(1, 10_000_000).default(1_000),
  GATEWAY_RATE_LIMIT_WINDOW_MS: env.int(100, 86_400_000).default(60_000), // 1 min
  // Largest request body, REST and RPC alike: 1 MiB.
  GATEWAY_MAX_BODY_BYTES: env.int(1_024, 64 << 20).default(1 << 20),
  // Longest deadline forwarded to a backend (a client asking for more gets this): 5 min.
  GATEWAY_MAX_TIMEOUT_MS: env.int(100, 3_600_000).default(300_000),
  // Slow clients (slowloris): a request's headers complete (also the TLS handshake and an HTTP/2
  // session's first stream), a whole request received with its body (not a streaming RPC's), and
  // how long an idle keep-alive connection stays open. Past them: 408, or the connection closed.
  GATEWAY_HEADERS_TIMEOUT_MS: env.int(100, 600_000).default(10_000), // 10 s
  GATEWAY_REQUEST_TIMEOUT_MS: env.int(100, 3_600_000).default(30_000), // 30 s
  GATEWAY_KEEP_ALIVE_TIMEOUT_MS: env.int(100, 3_600_000).default(65_000), // 65 s
  // WebSocket: ping interval (a client that misses one pong is dropped) and the most bytes
  // buffered for one slow client before it is dropped (1 MiB).
  GATEWAY_WS_HEARTBEAT_MS: env.int(100, 600_000).default(15_000), // 15 s
  GATEWAY_WS_MAX_BUFFERED_BYTES: env.int(1_024, 256 << 20).default(1 << 20),
  // The web console's build (`npm run build -w @hft/console`), served at /; read at the first
  // request that finds its index.html, so a rebuild is served after a restart.
  GATEWAY_CONSOLE_DIR: env.text().default(fileURLToPath(new URL("../../console/dist", import.meta.url))),
  // Prefix of the gateway's Redis keys (rate-limit windows), shared by every gateway replica.
  GATEWAY_REDIS_KEY_PREFIX: env.text().default("hft:gateway:"),
  AUTH_ISSUER: env.text(),
  AUTH_AUDIENCE: env.text(),
  AUTH_HS256_SECRET: env.secret(32).optional(),
  AUTH_JWKS_FILE: env.text().optional(),
  AUTH_JWKS_URL: env.url(["https", "http"]).optional(),
} satisfies ConfigShape;

export type GatewayConfig = ConfigOf<typeof gatewayConfigShape>;
