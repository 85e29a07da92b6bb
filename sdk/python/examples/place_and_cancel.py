"""The Python SDK end to end against a running gateway: authenticates with a bearer token, places
a limit order, streams the account's order updates until the order is accepted, cancels it, sees
it cancelled on the stream, and prints a one-line JSON summary. Any failure exits 1 with a message
naming the step and the gRPC code.

    .deps/sdk-python-venv/bin/python sdk/python/examples/place_and_cancel.py \
        --gateway http://127.0.0.1:8080 --token "$TOKEN"
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import time
from collections.abc import Iterator

import grpc

from hft.v1 import order_service_pb2, types_pb2
from hft_sdk import connect


class ExampleError(Exception):
    pass


class Deadline:
    """The whole run's deadline, handed to each call as the time left."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.at = time.monotonic() + seconds

    def left(self) -> float:
        return max(self.at - time.monotonic(), 0.001)


def rpc_failure(step: str, error: grpc.RpcError, deadline: Deadline) -> ExampleError:
    """Names the step and the gRPC code (UNAUTHENTICATED, UNAVAILABLE, ...), or the deadline."""
    if error.code() == grpc.StatusCode.DEADLINE_EXCEEDED:
        return ExampleError(f"{step}: no answer within {deadline.seconds} s")
    return ExampleError(f"{step} failed: {error.code().name}: {error.details()}")


def status_name(status: int) -> str:
    return types_pb2.OrderStatus.Name(status)


def next_update_of(updates: Iterator[order_service_pb2.StreamOrderUpdatesResponse], order_id: str, deadline: Deadline) -> order_service_pb2.Order:
    try:
        for update in updates:
            if update.order.order_id == order_id:
                return update.order
    except grpc.RpcError as error:
        raise rpc_failure("StreamOrderUpdates", error, deadline) from None
    raise ExampleError(f"StreamOrderUpdates ended before an update of order {order_id}")


def place_and_cancel(args: argparse.Namespace) -> dict[str, str]:
    if not args.token:
        raise ExampleError("no token: pass --token or set HFT_TOKEN (npm run dev-token -- <account> trader)")
    if not args.timeout_seconds > 0:
        raise ExampleError(f"--timeout-seconds must be positive, got {args.timeout_seconds}")
    deadline = Deadline(args.timeout_seconds)
    try:
        clients = connect(args.gateway, args.token)
    except ValueError as error:
        raise ExampleError(str(error)) from None
    with clients:
        orders = clients.orders
        client_order_id = f"sdk-python-{secrets.token_hex(4)}"
        request = order_service_pb2.PlaceOrderRequest(
            client_order_id=client_order_id,
            symbol=args.symbol,
            side=types_pb2.SIDE_BUY,
            type=types_pb2.ORDER_TYPE_LIMIT,
            time_in_force=types_pb2.TIME_IN_FORCE_GTC,
            price=args.price,
            quantity=args.quantity,
        )
        try:
            placed = orders.PlaceOrder(request, timeout=deadline.left()).order
        except grpc.RpcError as error:
            raise rpc_failure("PlaceOrder", error, deadline) from None
        if placed.status == types_pb2.ORDER_STATUS_REJECTED:
            raise ExampleError(f"PlaceOrder: the engine rejected the order: {placed.reject_message}")

        # From the placed order's sequence on, so the stream replays its acceptance however late it opens.
        updates = orders.StreamOrderUpdates(
            order_service_pb2.StreamOrderUpdatesRequest(from_sequence=placed.sequence, symbol=args.symbol), timeout=deadline.left()
        )
        try:
            accepted = next_update_of(updates, placed.order_id, deadline)
            if accepted.status != types_pb2.ORDER_STATUS_NEW:
                raise ExampleError(f"expected order {placed.order_id} ORDER_STATUS_NEW on the stream, got {status_name(accepted.status)}")
            try:
                cancelled = orders.CancelOrder(order_service_pb2.CancelOrderRequest(order_id=placed.order_id), timeout=deadline.left()).order
            except grpc.RpcError as error:
                raise rpc_failure("CancelOrder", error, deadline) from None
            if cancelled.status != types_pb2.ORDER_STATUS_CANCELLED:
                raise ExampleError(f"CancelOrder answered {status_name(cancelled.status)}, expected ORDER_STATUS_CANCELLED")
            streamed = accepted
            while streamed.status == types_pb2.ORDER_STATUS_NEW:
                streamed = next_update_of(updates, placed.order_id, deadline)
            if streamed.status != types_pb2.ORDER_STATUS_CANCELLED:
                raise ExampleError(f"expected order {placed.order_id} ORDER_STATUS_CANCELLED on the stream, got {status_name(streamed.status)}")
        finally:
            updates.cancel()
    return {
        "sdk": "python",
        "order_id": placed.order_id,
        "client_order_id": client_order_id,
        "placed": status_name(placed.status),
        "accepted": status_name(accepted.status),
        "cancelled": status_name(streamed.status),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gateway", default=os.environ.get("HFT_GATEWAY", "http://127.0.0.1:8080"), help="the gateway's URL")
    parser.add_argument("--token", default=os.environ.get("HFT_TOKEN"), help="the caller's JWT (default $HFT_TOKEN)")
    parser.add_argument("--symbol", default="BTC-USD", help="the instrument")
    parser.add_argument("--price", default="25000.50", help="the buy order's limit price")
    parser.add_argument("--quantity", default="0.01", help="the order's quantity")
    parser.add_argument("--timeout-seconds", type=float, default=20.0, help="the whole run's deadline")
    try:
        print(json.dumps(place_and_cancel(parser.parse_args()), separators=(",", ":")))
    except ExampleError as error:
        print(f"place-and-cancel (python): {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
