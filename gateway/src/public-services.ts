import type { DescService } from "@bufbuild/protobuf";
import { AnalyticsService } from "@hft/contract/es/hft/v1/analytics_service_pb.js";
import { MarketDataService } from "@hft/contract/es/hft/v1/market_data_service_pb.js";
import { OrderService } from "@hft/contract/es/hft/v1/order_service_pb.js";

/** The services the gateway serves, in the order the documents list them. */
export const publicServices: readonly DescService[] = [OrderService, MarketDataService, AnalyticsService];
