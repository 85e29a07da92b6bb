import type { DescService } from "@bufbuild/protobuf";
import { AnalyticsService } from "@hft/contract/es/hft/v1/analytics_service_pb.js";
import { MarketDataService } from "@hft/contract/es/hft/v1/market_data_service_pb.js";
import { OrderService } from "@hft/contract/es/hft/v1/order_service_pb.js";

/** The services the gateway serves, in the order the documents list them. */
export const publicServices: readonly DescService[] = [OrderService, MarketDataService, AnalyticsService];

/** The RPC paths (`/package.Service/Method`) whose request is a stream: client and bidi streaming. */
const requestStreamPaths = new Set(
  publicServices.flatMap((service) =>
    service.methods.filter((method) => method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming").map((method) => `/${service.typeName}/${method.name}`),
  ),
);

/** Whether `path` is a client or bidi streaming RPC of the public services, whose request body lasts as long as the call. */
export function isRequestStreamPath(path: string): boolean {
  return requestStreamPaths.has(path);
}
