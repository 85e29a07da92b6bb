"""gRPC clients of the platform's public services (OrderService, MarketDataService,
AnalyticsService) through the gateway, with the caller's JWT sent as a bearer token."""

from hft_sdk.client import PlatformClients, connect

__all__ = ["PlatformClients", "connect"]
