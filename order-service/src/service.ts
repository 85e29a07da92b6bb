/**
 * OrderService and MarketDataService over @grpc/grpc-js: every call is authenticated (the gateway's forwarded token or
 * the client's own bearer token, verified here either way), validated against the contract's
 * protovalidate rules, then handed to the order desk. Errors become gRPC statuses whose message
 * names what is wrong.
 */
import * as grpc from "@grpc/grpc-js";
import type { MetricsRegistry } from "@hft/service-kit";
import type { DescMessage } from "@bufbuild/protobuf";
import { file_grpc_health_v1_health } from "@hft/contract/es/grpc/health/v1/health_pb.js";
import { AuthError, type Identity, KeysUnavailableError, type Logger, ServerHealth, type TokenVerifier, addReflection, bearerToken, grpcServerMetrics, isPostgresUnreachable, violationsOfBytes } from "@hft/service-kit";
import {
  CancelAllOrdersRequestSchema,
  CancelOrderRequestSchema,
  GetOrderRequestSchema,
  GetPositionsRequestSchema,
  ListExecutionsRequestSchema,
  ListOrdersRequestSchema,
  PlaceOrderRequestSchema,
  ReplaceOrderRequestSchema,
  file_hft_v1_order_service,
} from "@hft/contract/es/hft/v1/order_service_pb.js";
import {
  CancelAllOrdersRequest,
  CancelOrderRequest,
  GetOrderRequest,
  GetPositionsRequest,
  ListExecutionsRequest,
  ListOrdersRequest,
  type OrderServiceServer,
  PlaceOrderRequest,
  ReplaceOrderRequest,
} from "@hft/contract/grpc/hft/v1/order_service.js";
import {
  GetBookRequestSchema,
  ListInstrumentsRequestSchema,
  StreamMarketDataRequestSchema,
  file_hft_v1_market_data_service,
} from "@hft/contract/es/hft/v1/market_data_service_pb.js";
import {
  GetBookRequest,
  ListInstrumentsRequest,
  type MarketDataServiceServer,
  StreamMarketDataRequest,
} from "@hft/contract/grpc/hft/v1/market_data_service.js";
import { EngineUnavailableError } from "./engine-link.js";
import type { MarketData } from "./market-data.js";
import type { OrderDesk } from "./order-desk.js";
import { OrderError } from "./order-error.js";
import { type DescribedError, type OrderStreamDeps, orderEntryHandler, streamOrderUpdatesHandler } from "./order-streams.js";
import type { OrderUpdateFeed } from "./order-updates.js";
import type { Reads } from "./reads.js";
import { marketDataServiceDefinition, orderServiceDefinition, receivedBytes } from "./service-definitions.js";

interface Encoder<T> {
  encode(message: T): { finish(): Uint8Array };
}

/** What a failure tells the caller: internal errors are logged and described without detail. */
export function describeError(error: unknown, logger: Logger): DescribedError {
  if (error instanceof OrderError) return { code: error.code, reason: error.reason, message: error.message };
  if (error instanceof EngineUnavailableError) return { code: grpc.status.UNAVAILABLE, reason: "ENGINE_UNAVAILABLE", message: error.message };
  if (error instanceof AuthError) return { code: grpc.status.UNAUTHENTICATED, reason: error.code, message: error.message };
  if (error instanceof KeysUnavailableError) return { code: grpc.status.UNAVAILABLE, reason: "AUTH_KEYS_UNAVAILABLE", message: `the token could not be checked: ${error.message}; retry` };
  if (isPostgresUnreachable(error)) {
    logger.warn({ err: error }, "request failed: PostgreSQL out of reach");
    return {
      code: grpc.status.UNAVAILABLE,
      reason: "DATABASE_UNAVAILABLE",
      message: "the order record (PostgreSQL) is out of reach; an order may or may not have been placed: retry with the same client_order_id",
    };
  }
  logger.error({ err: error }, "request failed");
  return { code: grpc.status.INTERNAL, reason: "INTERNAL", message: "internal error; it has been logged" };
}

/** The gRPC status of a failure, with its reason in the `hft-reason` trailer. */
export function toServiceError(error: unknown, logger: Logger): Partial<grpc.ServiceError> {
  const { code, reason, message } = describeError(error, logger);
  const metadata = new grpc.Metadata();
  metadata.set("hft-reason", reason);
  return { code, details: message, metadata };
}

export interface OrderServiceDeps {
  readonly desk: OrderDesk;
  readonly marketData: MarketData;
  readonly reads: Reads;
  readonly feed: OrderUpdateFeed;
  readonly verify: TokenVerifier;
  readonly logger: Logger;
}

/** Authenticated, validated unary handlers whose failures become statuses. */
function createCallHandlers(verify: TokenVerifier, logger: Logger) {
  async function authenticate(metadata: grpc.Metadata): Promise<Identity> {
    const header = metadata.get("authorization")[0];
    return verify(bearerToken(typeof header === "string" ? header : header?.toString()));
  }

  async function admitted<Req extends object>(metadata: grpc.Metadata, schema: DescMessage, codec: Encoder<Req>, request: Req): Promise<Identity> {
    const identity = await authenticate(metadata);
    const problem = violationsOfBytes(schema, receivedBytes(request) ?? codec.encode(request).finish());
    if (problem) throw new OrderError(grpc.status.INVALID_ARGUMENT, "INVALID_REQUEST", problem);
    return identity;
  }

  function unary<Req extends object, Res>(
    schema: DescMessage,
    codec: Encoder<Req>,
    handle: (identity: Identity, request: Req) => Promise<Res>,
  ): grpc.handleUnaryCall<Req, Res> {
    return (call, callback) => {
      admitted(call.metadata, schema, codec, call.request)
        .then((identity) => handle(identity, call.request))
        .then(
          (response) => callback(null, response),
          (error: unknown) => callback(toServiceError(error, logger)),
        );
    };
  }

  return { authenticate, admitted, unary };
}

export function orderServiceHandlers({ desk, reads, feed, verify, logger }: Omit<OrderServiceDeps, "marketData">): OrderServiceServer {
  const { authenticate, unary } = createCallHandlers(verify, logger);

  const streams: OrderStreamDeps = {
    desk,
    feed,
    logger,
    authenticate,
    describe: (error) => describeError(error, logger),
    fail: (call, error) => call.emit("error", toServiceError(error, logger)),
  };

  return {
    placeOrder: unary(PlaceOrderRequestSchema, PlaceOrderRequest, async (identity, request) => ({ order: await desk.place(identity, request) })),
    cancelOrder: unary(CancelOrderRequestSchema, CancelOrderRequest, async (identity, request) => ({ order: await desk.cancel(identity, request) })),
    replaceOrder: unary(ReplaceOrderRequestSchema, ReplaceOrderRequest, async (identity, request) => ({ order: await desk.replace(identity, request) })),
    getOrder: unary(GetOrderRequestSchema, GetOrderRequest, async (identity, request) => ({ order: await desk.get(identity, request) })),
    listOrders: unary(ListOrdersRequestSchema, ListOrdersRequest, (identity, request) => reads.listOrders(identity, request)),
    listExecutions: unary(ListExecutionsRequestSchema, ListExecutionsRequest, (identity, request) => reads.listExecutions(identity, request)),
    getPositions: unary(GetPositionsRequestSchema, GetPositionsRequest, async (identity, request) => ({ positions: await reads.getPositions(identity, request) })),
    cancelAllOrders: unary(CancelAllOrdersRequestSchema, CancelAllOrdersRequest, (identity, request) => desk.cancelAll(identity, request)),
    streamOrderUpdates: streamOrderUpdatesHandler(streams),
    orderEntry: orderEntryHandler(streams),
  };
}

/** MarketDataService for any authenticated caller: market data is not an account's own. */
export function marketDataHandlers({ marketData, verify, logger }: Pick<OrderServiceDeps, "marketData" | "verify" | "logger">): MarketDataServiceServer {
  const { admitted, unary } = createCallHandlers(verify, logger);
  return {
    listInstruments: unary(ListInstrumentsRequestSchema, ListInstrumentsRequest, () => marketData.listInstruments()),
    getBook: unary(GetBookRequestSchema, GetBookRequest, (_identity, request) => marketData.getBook(request)),
    streamMarketData: (call) => {
      admitted(call.metadata, StreamMarketDataRequestSchema, StreamMarketDataRequest, call.request)
        .then(() => marketData.stream(call.request, call))
        .catch((error: unknown) => call.emit("error", toServiceError(error, logger)));
    },
  };
}

/**
 * The order service's gRPC server: OrderService, MarketDataService, the health service (NOT_SERVING until the
 * caller says otherwise), server reflection, and call metrics in `registry`.
 */
export function createOrderServer(deps: OrderServiceDeps & { readonly registry: MetricsRegistry }): { server: grpc.Server; health: ServerHealth } {
  const server = new grpc.Server({
    "grpc.keepalive_time_ms": 30_000,
    "grpc.max_receive_message_length": 4 << 20,
    interceptors: [grpcServerMetrics(deps.registry)],
  });
  server.addService(orderServiceDefinition, orderServiceHandlers(deps));
  server.addService(marketDataServiceDefinition, marketDataHandlers(deps));
  const health = new ServerHealth(server, ["hft.v1.OrderService", "hft.v1.MarketDataService"]);
  addReflection(
    server,
    ["hft.v1.OrderService", "hft.v1.MarketDataService", "grpc.health.v1.Health"],
    [file_hft_v1_order_service, file_hft_v1_market_data_service, file_grpc_health_v1_health],
  );
  return { server, health };
}
