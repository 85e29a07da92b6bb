/**
 * The TypeScript SDK end to end against a running gateway: authenticates with a bearer token,
 * places a limit order, streams the account's order updates until the order is accepted, cancels
 * it, sees it cancelled on the stream, and prints a one-line JSON summary. Any failure exits 1
 * with a message naming the step and the error code.
 *
 *   node --conditions=@hft/source --import tsx sdk/ts/examples/place-and-cancel.ts \
 *     --gateway http://127.0.0.1:8080 --token "$(npm run --silent dev-token -- alice trader)"
 */
import { randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import { Code, ConnectError } from "@connectrpc/connect";
import { type Order, OrderStatus, OrderStatusSchema, OrderType, Side, type StreamOrderUpdatesResponse, TimeInForce, createNodeClients } from "@hft/sdk/node";

class ExampleError extends Error {}

const { values: flags } = parseArgs({
  options: {
    gateway: { type: "string", default: process.env.HFT_GATEWAY ?? "http://127.0.0.1:8080" },
    token: { type: "string", default: process.env.HFT_TOKEN },
    symbol: { type: "string", default: "BTC-USD" },
    price: { type: "string", default: "25000.50" },
    quantity: { type: "string", default: "0.01" },
    "timeout-seconds": { type: "string", default: "20" },
  },
});

const timeoutSeconds = Number(flags["timeout-seconds"]);
const deadline = AbortSignal.timeout(Number.isFinite(timeoutSeconds) && timeoutSeconds > 0 ? timeoutSeconds * 1000 : 0);

const statusName = (status: OrderStatus) => OrderStatusSchema.value[status]?.name ?? String(status);

/** Runs `call`, turning an RPC error into one line naming the step and the gRPC code. */
async function step<T>(name: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (deadline.aborted) throw new ExampleError(`${name}: no answer within ${timeoutSeconds} s`);
    if (error instanceof ConnectError) throw new ExampleError(`${name} failed: ${codeName(error.code)}: ${error.rawMessage}`);
    throw error;
  }
}

/** The gRPC name of a code, as the Go and Python examples print it: Code.Unauthenticated → UNAUTHENTICATED. */
function codeName(code: Code): string {
  return Code[code]!.replace(/(?<=[a-z])(?=[A-Z])/g, "_").toUpperCase();
}

/** The next update of order `orderId` on the stream; fails when the stream ends first. */
async function nextUpdateOf(updates: AsyncIterator<StreamOrderUpdatesResponse>, orderId: string): Promise<Order> {
  for (;;) {
    const next = await step("StreamOrderUpdates", () => updates.next());
    if (next.done) throw new ExampleError(`StreamOrderUpdates ended before an update of order ${orderId}`);
    if (next.value.order?.orderId === orderId) return next.value.order;
  }
}

async function placeAndCancel() {
  if (!flags.token) throw new ExampleError("no token: pass --token or set HFT_TOKEN (npm run dev-token -- <account> trader)");
  if (!(timeoutSeconds > 0)) throw new ExampleError(`--timeout-seconds "${flags["timeout-seconds"]}" is not a positive number`);
  const { orders } = createNodeClients({ baseUrl: flags.gateway, token: flags.token });

  const clientOrderId = `sdk-ts-${randomUUID().slice(0, 8)}`;
  const placeRequest = { clientOrderId, symbol: flags.symbol, side: Side.BUY, type: OrderType.LIMIT, timeInForce: TimeInForce.GTC, price: flags.price, quantity: flags.quantity };
  const placed = (await step("PlaceOrder", () => orders.placeOrder(placeRequest, { signal: deadline }))).order;
  if (!placed) throw new ExampleError("PlaceOrder answered without an order");
  if (placed.status === OrderStatus.REJECTED) throw new ExampleError(`PlaceOrder: the engine rejected the order: ${placed.rejectMessage}`);

  // From the placed order's sequence on, so the stream replays its acceptance however late it opens.
  const streamClosed = new AbortController();
  const stream = orders.streamOrderUpdates({ fromSequence: placed.sequence, symbol: flags.symbol }, { signal: AbortSignal.any([deadline, streamClosed.signal]) });
  const updates = stream[Symbol.asyncIterator]();
  try {
    const accepted = await nextUpdateOf(updates, placed.orderId);
    if (accepted.status !== OrderStatus.NEW) throw new ExampleError(`expected order ${placed.orderId} ORDER_STATUS_NEW on the stream, got ${statusName(accepted.status)}`);

    const cancelled = (await step("CancelOrder", () => orders.cancelOrder({ orderId: placed.orderId }, { signal: deadline }))).order;
    if (cancelled?.status !== OrderStatus.CANCELLED) throw new ExampleError(`CancelOrder answered ${cancelled ? statusName(cancelled.status) : "no order"}, expected ORDER_STATUS_CANCELLED`);
    let streamed = await nextUpdateOf(updates, placed.orderId);
    while (streamed.status === OrderStatus.NEW) streamed = await nextUpdateOf(updates, placed.orderId);
    if (streamed.status !== OrderStatus.CANCELLED) throw new ExampleError(`expected order ${placed.orderId} ORDER_STATUS_CANCELLED on the stream, got ${statusName(streamed.status)}`);

    console.log(
      JSON.stringify({
        sdk: "ts",
        order_id: placed.orderId,
        client_order_id: clientOrderId,
        placed: statusName(placed.status),
        accepted: statusName(accepted.status),
        cancelled: statusName(streamed.status),
      }),
    );
  } finally {
    streamClosed.abort();
  }
}

try {
  await placeAndCancel();
} catch (error) {
  console.error(`place-and-cancel (ts): ${error instanceof ExampleError ? error.message : String(error)}`);
  process.exit(1);
}
