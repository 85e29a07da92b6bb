/**
 * The GetOrder answer of the gateway benchmarks' bare servers: one fixed order of the size the
 * order service returns, the same bytes for the connect-node ceiling (bench/bare-server.ts) and
 * the Node HTTP one of the harness (/bench).
 */
import { create } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { GetOrderResponseSchema } from "@hft/contract/es/hft/v1/order_service_pb.js";
import { OrderStatus, OrderType, Side, TimeInForce } from "@hft/contract/es/hft/v1/types_pb.js";

const at = timestampNow();

export const getOrderAnswer = (orderId: string) =>
  create(GetOrderResponseSchema, {
    order: {
      orderId,
      clientOrderId: "bench-0001",
      account: "bench",
      symbol: "BTC-USD",
      side: Side.BUY,
      type: OrderType.LIMIT,
      timeInForce: TimeInForce.GTC,
      price: "25000.5",
      quantity: "0.01",
      filledQuantity: "0",
      remainingQuantity: "0.01",
      status: OrderStatus.NEW,
      createTime: at,
      updateTime: at,
      sequence: 42n,
    },
  });
