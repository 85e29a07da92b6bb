export { type TokenSource, createBearerTokenInterceptor } from "./private/bearer-token.js";
export type { PlatformClientOptions } from "./private/client-options.js";
export { type PlatformClients, createPlatformClients } from "./private/platform-clients.js";
export * from "./gen/hft/v1/analytics_service_pb.js";
export * from "./gen/hft/v1/market_data_service_pb.js";
export * from "./gen/hft/v1/order_service_pb.js";
export * from "./gen/hft/v1/types_pb.js";
