/**
 * AnalyticsService over @grpc/grpc-js: every call is authenticated (the gateway's forwarded token
 * or the client's own bearer token, verified here either way), validated against the contract's
 * protovalidate rules, scoped to the accounts the caller may read, and answered from the figures
 * in PostgreSQL. Errors become gRPC statuses whose message names what is wrong, with a stable
 * reason in the `hft-reason` trailer.
 */
import * as grpc from "@grpc/grpc-js";
import type { MetricsRegistry } from "@hft/service-kit";
import type { DescMessage } from "@bufbuild/protobuf";
import { AuthError, type Identity, KeysUnavailableError, type Logger, ServerHealth, type TokenVerifier, addReflection, bearerToken, grpcServerMetrics, isPostgresUnreachable, violationsOfBytes } from "@hft/service-kit";
import { file_grpc_health_v1_health } from "@hft/contract/es/grpc/health/v1/health_pb.js";
import {
  GetAnalyticsRequestSchema,
  GetDailyPnlRequestSchema,
  GetSymbolStatsRequestSchema,
  file_hft_v1_analytics_service,
} from "@hft/contract/es/hft/v1/analytics_service_pb.js";
import {
  type AnalyticsServiceServer,
  AnalyticsServiceService,
  GetAnalyticsRequest,
  GetDailyPnlRequest,
  GetSymbolStatsRequest,
  type SymbolStats,
} from "@hft/contract/grpc/hft/v1/analytics_service.js";
import type { Timestamp } from "@hft/contract/grpc/google/protobuf/timestamp.js";
import { AnalyticsError, type AnalyticsErrorCode, readableScope } from "./account-access.js";
import type { FigureReads, SymbolView } from "./figure-reads.js";
import type { Names } from "./names.js";
import { windowDays } from "./utc-day.js";

export const ANALYTICS_SERVICE_NAME = "hft.v1.AnalyticsService";

const statusOf: Record<AnalyticsErrorCode, grpc.status> = {
  NOT_ACCOUNT_OWNER: grpc.status.PERMISSION_DENIED,
  UNKNOWN_ACCOUNT: grpc.status.NOT_FOUND,
  UNKNOWN_SYMBOL: grpc.status.NOT_FOUND,
  INVALID_REQUEST: grpc.status.INVALID_ARGUMENT,
};

/**
 * The gRPC status of a failure: a database out of reach is UNAVAILABLE (worth a retry); internal
 * errors are logged and described without detail.
 */
export function toServiceError(error: unknown, logger: Logger): Partial<grpc.ServiceError> {
  let code: grpc.status;
  let reason: string;
  let message: string;
  if (error instanceof AnalyticsError) [code, reason, message] = [statusOf[error.code], error.code, error.message];
  else if (error instanceof AuthError) [code, reason, message] = [grpc.status.UNAUTHENTICATED, error.code, error.message];
  else if (error instanceof KeysUnavailableError) [code, reason, message] = [grpc.status.UNAVAILABLE, "AUTH_KEYS_UNAVAILABLE", `the token could not be checked: ${error.message}; retry`];
  else if (isPostgresUnreachable(error)) {
    logger.warn({ err: error }, "request failed: PostgreSQL out of reach");
    [code, reason, message] = [grpc.status.UNAVAILABLE, "DATABASE_UNAVAILABLE", "the figures (PostgreSQL) are out of reach; retry"];
  } else {
    logger.error({ err: error }, "request failed");
    [code, reason, message] = [grpc.status.INTERNAL, "INTERNAL", "internal error; it has been logged"];
  }
  const metadata = new grpc.Metadata();
  metadata.set("hft-reason", reason);
  return { code, details: message, metadata };
}

export interface AnalyticsServiceDeps {
  readonly reads: FigureReads;
  readonly names: Names;
  readonly verify: TokenVerifier;
  readonly logger: Logger;
  /** The clock that says which UTC day is today. Default the system clock. */
  readonly now?: () => Date;
}

interface Encoder<T> {
  encode(message: T): { finish(): Uint8Array };
}

export function toTimestamp(date: Date): Timestamp {
  const ms = date.getTime();
  return { seconds: BigInt(Math.floor(ms / 1_000)), nanos: (((ms % 1_000) + 1_000) % 1_000) * 1_000_000 };
}

function symbolStats(view: SymbolView): SymbolStats {
  return { symbol: view.symbol, netQuantity: view.netQuantity, lastPrice: view.lastPrice, stats: { ...view.stats } };
}

export function analyticsServiceHandlers({ reads, names, verify, logger, now = () => new Date() }: AnalyticsServiceDeps): AnalyticsServiceServer {
  async function authenticate(metadata: grpc.Metadata): Promise<Identity> {
    const header = metadata.get("authorization")[0];
    return verify(bearerToken(typeof header === "string" ? header : header?.toString()));
  }

  function unary<Req, Res>(schema: DescMessage, codec: Encoder<Req>, handle: (identity: Identity, request: Req) => Promise<Res>): grpc.handleUnaryCall<Req, Res> {
    return function handleUnary(call, callback) {
      void (async () => {
        const identity = await authenticate(call.metadata);
        const problem = violationsOfBytes(schema, codec.encode(call.request).finish());
        if (problem) throw new AnalyticsError("INVALID_REQUEST", problem);
        return handle(identity, call.request);
      })().then(
        (response) => callback(null, response),
        (error: unknown) => callback(toServiceError(error, logger)),
      );
    };
  }

  return {
    getAnalytics: unary(GetAnalyticsRequestSchema, GetAnalyticsRequest, async (identity, request) => {
      const { account, scope } = await readableScope(identity, request.account, names);
      const view = await reads.analytics(scope);
      return { account, totals: { ...view.totals }, symbols: view.symbols.map(symbolStats), asOf: view.asOf && toTimestamp(view.asOf) };
    }),
    getDailyPnl: unary(GetDailyPnlRequestSchema, GetDailyPnlRequest, async (identity, request) => {
      const { scope } = await readableScope(identity, request.account, names);
      const result = await reads.daily(scope, windowDays(now(), request.days));
      return { days: result.days, asOf: result.asOf && toTimestamp(result.asOf) };
    }),
    getSymbolStats: unary(GetSymbolStatsRequestSchema, GetSymbolStatsRequest, async (identity, request) => {
      const { scope } = await readableScope(identity, request.account, names);
      let instrumentId: number | undefined;
      if (request.symbol !== "") {
        instrumentId = await names.instrumentId(request.symbol);
        if (instrumentId === undefined) throw new AnalyticsError("UNKNOWN_SYMBOL", `symbol ${request.symbol} is not listed`);
      }
      const view = await reads.analytics(scope, instrumentId);
      return { symbols: view.symbols.map(symbolStats) };
    }),
  };
}

/**
 * The analytics service's gRPC server: AnalyticsService, the health service (NOT_SERVING until
 * the caller says otherwise), server reflection, and call metrics in `registry`.
 */
export function createAnalyticsServer(deps: AnalyticsServiceDeps & { readonly registry: MetricsRegistry }): { server: grpc.Server; health: ServerHealth } {
  const server = new grpc.Server({
    "grpc.keepalive_time_ms": 30_000,
    "grpc.max_receive_message_length": 1 << 20,
    interceptors: [grpcServerMetrics(deps.registry)],
  });
  server.addService(AnalyticsServiceService, analyticsServiceHandlers(deps));
  const health = new ServerHealth(server, [ANALYTICS_SERVICE_NAME]);
  addReflection(server, [ANALYTICS_SERVICE_NAME, "grpc.health.v1.Health"], [file_hft_v1_analytics_service, file_grpc_health_v1_health]);
  return { server, health };
}
