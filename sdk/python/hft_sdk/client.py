"""connect(): one channel to the gateway and the public services' stubs on it."""

from __future__ import annotations

import ipaddress
import urllib.parse
from dataclasses import dataclass

import grpc

from hft.v1 import analytics_service_pb2_grpc, market_data_service_pb2_grpc, order_service_pb2_grpc


@dataclass(frozen=True)
class PlatformClients:
    """The public services' stubs on one channel; close() (or a with block) ends every call on it."""

    orders: order_service_pb2_grpc.OrderServiceStub
    market_data: market_data_service_pb2_grpc.MarketDataServiceStub
    analytics: analytics_service_pb2_grpc.AnalyticsServiceStub
    channel: grpc.Channel

    def close(self) -> None:
        self.channel.close()

    def __enter__(self) -> PlatformClients:
        return self

    def __exit__(self, *_exc_info: object) -> None:
        self.close()


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def connect(gateway_url: str, token: str, *, root_certificates: bytes | None = None) -> PlatformClients:
    """Stubs of the gateway at gateway_url, every call carrying "authorization: Bearer <token>".

    https://host:port verifies the gateway's certificate (against root_certificates, or the
    system's). http:// is cleartext and allowed only to a gateway on loopback (the local stack):
    gRPC's local credentials, which let the token go out unencrypted on this machine alone.
    The channel connects lazily: an unreachable gateway shows as UNAVAILABLE on the first call.
    """
    parsed = urllib.parse.urlsplit(gateway_url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname or parsed.port is None:
        raise ValueError(f'gateway URL "{gateway_url}": expected http://host:port or https://host:port')
    if not token:
        raise ValueError("token is empty: expected a JWT for the gateway")
    if parsed.scheme == "https":
        transport = grpc.ssl_channel_credentials(root_certificates)
    elif _is_loopback(parsed.hostname):
        transport = grpc.local_channel_credentials(grpc.LocalConnectionType.LOCAL_TCP)
    else:
        raise ValueError(f'gateway URL "{gateway_url}": cleartext http:// only to loopback; use https:// for {parsed.hostname}')
    credentials = grpc.composite_channel_credentials(transport, grpc.access_token_call_credentials(token))
    channel = grpc.secure_channel(parsed.netloc, credentials)
    return PlatformClients(
        orders=order_service_pb2_grpc.OrderServiceStub(channel),
        market_data=market_data_service_pb2_grpc.MarketDataServiceStub(channel),
        analytics=analytics_service_pb2_grpc.AnalyticsServiceStub(channel),
        channel=channel,
    )
