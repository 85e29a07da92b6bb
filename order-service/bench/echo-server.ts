/**
 * The transport's own ceiling for the order-service benchmark: a bare @grpc/grpc-js server with
 * the same OrderService contract, answering PlaceOrder and OrderEntry at once with an order built
 * from the request (same messages, same sizes), and doing nothing else. Run as its own process,
 * like the order service. Prints `listening <host:port>` when ready.
 */
import * as grpc from "@grpc/grpc-js";
import { type Order, type OrderEntryRequest, type OrderEntryResponse, type OrderServiceServer, OrderServiceService, type PlaceOrderRequest } from "@hft/contract/grpc/hft/v1/order_service.js";
import { OrderStatus } from "@hft/contract/grpc/hft/v1/types.js";

const print = (line: string) => process.stdout.write(`${line}\n`);
let nextOrderId = 1n;
const now = () => ({ seconds: BigInt(Math.floor(Date.now() / 1000)), nanos: (Date.now() % 1000) * 1_000_000 });

function orderOf(request: PlaceOrderRequest): Order {
  const at = now();
  return {
    orderId: (nextOrderId++).toString(),
    clientOrderId: request.clientOrderId,
    account: request.account || "echo",
    symbol: request.symbol,
    side: request.side,
    type: request.type,
    timeInForce: request.timeInForce,
    price: request.price,
    stopPrice: request.stopPrice,
    quantity: request.quantity,
    displayQuantity: request.displayQuantity,
    filledQuantity: "0",
    remainingQuantity: request.quantity,
    averageFillPrice: "",
    status: OrderStatus.ORDER_STATUS_NEW,
    rejectReason: 0,
    rejectMessage: "",
    cancelReason: 0,
    postOnly: request.postOnly,
    selfTradePrevention: request.selfTradePrevention,
    createTime: at,
    updateTime: at,
    sequence: nextOrderId,
  };
}

const echo: Partial<OrderServiceServer> = {
  placeOrder: (call, callback) => callback(null, { order: orderOf(call.request) }),
  orderEntry: (call: grpc.ServerDuplexStream<OrderEntryRequest, OrderEntryResponse>) => {
    call.on("data", (request: OrderEntryRequest) => {
      if (request.action?.$case === "place") call.write({ requestId: request.requestId, result: { $case: "order", value: orderOf(request.action.value) }, execution: undefined });
    });
    call.on("end", () => call.end());
  },
};

const server = new grpc.Server({ "grpc.max_receive_message_length": 4 << 20 });
// grpc-js answers UNIMPLEMENTED for the methods left out.
server.addService(OrderServiceService, echo as OrderServiceServer);
server.bindAsync(process.argv[2] ?? "127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, port) => {
  if (error) {
    console.error(`echo-server: ${error.message}`);
    process.exit(1);
  }
  print(`listening 127.0.0.1:${port}`);
});
process.on("SIGTERM", () => server.tryShutdown(() => process.exit(0)));
