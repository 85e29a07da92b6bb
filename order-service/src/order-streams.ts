/**
 * The two streams of OrderService.
 *
 * StreamOrderUpdates: the caller's order changes, live from the order-update feed, optionally
 * preceded by the history from a sequence. OrderEntry: place, cancel and replace in, results and
 * the account's order updates out (request_id 0), without a round trip per order: instructions
 * are worked on concurrently, so the engine link batches them, except that instructions naming
 * the same order run in the order they came.
 *
 * A reader that stops reading is not waited for: once MAX_BUFFERED messages wait for it, it gets
 * no more, and the stream ends with RESOURCE_EXHAUSTED (after what is buffered).
 */
import * as grpc from "@grpc/grpc-js";
import { type Identity, type Logger, violationsOfBytes, whenTokenExpires } from "@hft/service-kit";
import { OrderEntryRequestSchema } from "@hft/contract/es/hft/v1/order_service_pb.js";
import {
  type Order,
  OrderEntryRequest,
  type OrderEntryResponse,
  type StreamOrderUpdatesRequest,
  type StreamOrderUpdatesResponse,
} from "@hft/contract/grpc/hft/v1/order_service.js";
import type { OrderDesk } from "./order-desk.js";
import { OrderError } from "./order-error.js";
import { type OrderUpdate, type OrderUpdateFeed, ReplayTooLongError } from "./order-updates.js";
import { receivedBytes } from "./service-definitions.js";

/** Messages waiting for a slow reader before its stream is ended. */
export const MAX_BUFFERED = 10_000;
/** Instructions of one OrderEntry stream being worked on at once; the stream is not read beyond. */
export const MAX_IN_FLIGHT = 2_000;

export interface DescribedError {
  readonly code: grpc.status;
  readonly reason: string;
  readonly message: string;
}

export interface OrderStreamDeps {
  readonly desk: OrderDesk;
  readonly feed: OrderUpdateFeed;
  readonly logger: Logger;
  readonly authenticate: (metadata: grpc.Metadata) => Promise<Identity>;
  /** What a failure tells the caller: a status, a stable reason and a message. */
  readonly describe: (error: unknown) => DescribedError;
  readonly fail: (call: grpc.ServerWritableStream<unknown, unknown> | grpc.ServerDuplexStream<unknown, unknown>, error: unknown) => void;
}

const draining = () => new OrderError(grpc.status.UNAVAILABLE, "SERVICE_DRAINING", "the order service is shutting down; reconnect (with from_sequence to resume updates)");
/** A stream lasts no longer than the token that opened it. */
const tokenExpired = () => new OrderError(grpc.status.UNAUTHENTICATED, "TOKEN_EXPIRED", "the token that opened this stream expired; open it again with a fresh one (with from_sequence to resume updates)");

/** Writes to `call` until the reader falls MAX_BUFFERED messages behind; then ends it. */
function boundedWriter<T>(call: grpc.ServerWritableStream<unknown, T> | grpc.ServerDuplexStream<unknown, T>, fail: (error: unknown) => void): (message: T) => boolean {
  let open = true;
  return (message) => {
    if (!open || call.cancelled || call.writableEnded) return false;
    if (call.writableLength >= MAX_BUFFERED) {
      open = false;
      fail(new OrderError(grpc.status.RESOURCE_EXHAUSTED, "SLOW_CONSUMER", `the client fell ${MAX_BUFFERED} messages behind; reconnect with from_sequence to resume`));
      return false;
    }
    call.write(message);
    return true;
  };
}

export function streamOrderUpdatesHandler({ desk, feed, authenticate, fail, logger }: OrderStreamDeps): grpc.handleServerStreamingCall<StreamOrderUpdatesRequest, StreamOrderUpdatesResponse> {
  return (call) => {
    let unlisten = () => {};
    let stopExpiry = () => {};
    let ended = false;
    const stop = () => {
      ended = true;
      unlisten();
      stopExpiry();
    };
    call.on("cancelled", stop);
    const failStream = (error: unknown) => {
      if (ended) return;
      stop();
      if (error instanceof ReplayTooLongError) error = new OrderError(grpc.status.OUT_OF_RANGE, "REPLAY_TOO_LONG", error.message);
      fail(call, error);
    };
    void (async () => {
      const identity = await authenticate(call.metadata);
      stopExpiry = whenTokenExpires(identity, () => failStream(tokenExpired()));
      if (ended) return;
      const { fromSequence, symbol } = call.request;
      const account = await desk.readableAccount(identity, call.request.account);
      const write = boundedWriter(call, failStream);
      const send = (updates: readonly OrderUpdate[]) => {
        for (const update of updates) {
          if (symbol !== "" && update.message.order?.symbol !== symbol) continue;
          if (!write(update.message)) return;
        }
      };
      // Live updates that arrive while the history is read wait, then go out unless the history held them.
      let waiting: OrderUpdate[] | undefined = fromSequence > 0n ? [] : undefined;
      unlisten = feed.listen(account.name, {
        deliver: (updates) => (waiting ? waiting.push(...updates) : send(updates)),
        closed: () => failStream(draining()),
      });
      if (ended) return unlisten();
      // The headers now, not with the first update: they tell the client the stream is live (a
      // quiet account may have no update for hours), so it can read the orders it already has.
      call.sendMetadata(new grpc.Metadata());
      if (!waiting) return;
      const history = await feed.history(account.id, fromSequence);
      send(history.updates);
      send(waiting.filter((u) => u.sequence > (history.checkpoints.get(u.shard) ?? 0n)));
      waiting = undefined;
      logger.debug({ account: account.name, from: fromSequence.toString(), replayed: history.updates.length }, "order update stream resumed");
    })().catch(failStream);
  };
}

export function orderEntryHandler({ desk, feed, authenticate, describe, fail, logger }: OrderStreamDeps): grpc.handleBidiStreamingCall<OrderEntryRequest, OrderEntryResponse> {
  return (call) => {
    let unlisten = () => {};
    let inFlight = 0;
    let inputEnded = false;
    // Why the stream is closing (draining, the token expired): what is in flight is answered,
    // nothing more is read, then the stream ends with it.
    let closing: OrderError | undefined;
    let stopExpiry = () => {};
    const identity = authenticate(call.metadata);
    const failStream = (error: unknown) => {
      unlisten();
      stopExpiry();
      fail(call, error);
    };
    const write = boundedWriter(call, failStream);
    const finishIfDone = () => {
      if ((inputEnded || closing) && inFlight === 0 && !call.cancelled) {
        unlisten();
        stopExpiry();
        if (closing) fail(call, closing);
        else call.end();
      }
    };
    const close = (why: OrderError) => {
      closing ??= why;
      call.pause();
      finishIfDone();
    };
    identity.then(
      (who) => {
        if (call.cancelled) return;
        stopExpiry = whenTokenExpires(who, () => close(tokenExpired()));
        if (closing) return;
        unlisten = feed.listen(who.account, {
          deliver: (updates) => {
            for (const { message } of updates) {
              if (!write({ requestId: 0n, result: message.order ? { $case: "order", value: message.order } : undefined, execution: message.execution })) return;
            }
          },
          closed: () => close(draining()),
        });
      },
      failStream,
    );
    // Instructions naming the same order are chained; the others run side by side.
    const chains = new Map<string, Promise<unknown>>();
    const run = async (request: OrderEntryRequest): Promise<Order> => {
      const who = await identity;
      const problem = violationsOfBytes(OrderEntryRequestSchema, receivedBytes(request) ?? OrderEntryRequest.encode(request).finish());
      if (problem) throw new OrderError(grpc.status.INVALID_ARGUMENT, "INVALID_REQUEST", problem);
      const action = request.action!;
      switch (action.$case) {
        case "place":
          return desk.place(who, action.value);
        case "cancel":
          return desk.cancel(who, action.value);
        case "replace":
          return desk.replace(who, action.value);
      }
    };
    call.on("data", (request: OrderEntryRequest) => {
      if (closing) {
        const { code, reason, message } = closing;
        write({ requestId: request.requestId, result: { $case: "error", value: { code, reason, message } }, execution: undefined });
        return;
      }
      if (++inFlight >= MAX_IN_FLIGHT) call.pause();
      const orderId = request.action?.$case === "cancel" || request.action?.$case === "replace" ? request.action.value.orderId : undefined;
      const previous = orderId === undefined ? undefined : chains.get(orderId);
      const result = (previous ? previous.catch(() => undefined).then(() => run(request)) : run(request)).then(
        (order) => write({ requestId: request.requestId, result: { $case: "order", value: order }, execution: undefined }),
        (error: unknown) => {
          const { code, reason, message } = describe(error);
          if (code === grpc.status.INTERNAL) logger.error({ err: error, requestId: request.requestId.toString() }, "order entry instruction failed");
          write({ requestId: request.requestId, result: { $case: "error", value: { code, reason, message } }, execution: undefined });
        },
      );
      if (orderId !== undefined) {
        chains.set(orderId, result);
        void result.then(() => chains.get(orderId) === result && chains.delete(orderId));
      }
      void result.then(() => {
        if (inFlight-- === MAX_IN_FLIGHT && !closing) call.resume();
        finishIfDone();
      });
    });
    call.on("end", () => {
      inputEnded = true;
      finishIfDone();
    });
    call.on("cancelled", () => {
      unlisten();
      stopExpiry();
    });
  };
}
