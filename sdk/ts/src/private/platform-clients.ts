import { type Client, type Transport, createClient } from "@connectrpc/connect";
import { AnalyticsService } from "../gen/hft/v1/analytics_service_pb.js";
import { MarketDataService } from "../gen/hft/v1/market_data_service_pb.js";
import { OrderService } from "../gen/hft/v1/order_service_pb.js";

/** Typed clients of the three public services, sharing one transport. */
export interface PlatformClients {
  readonly orders: Client<typeof OrderService>;
  readonly marketData: Client<typeof MarketDataService>;
  readonly analytics: Client<typeof AnalyticsService>;
}

/** The public services' clients on any Connect transport (Node's, the browser's, or a test's). */
export function createPlatformClients(transport: Transport): PlatformClients {
  return {
    orders: createClient(OrderService, transport),
    marketData: createClient(MarketDataService, transport),
    analytics: createClient(AnalyticsService, transport),
  };
}
