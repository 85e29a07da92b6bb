/**
 * Each Order and Execution encoded once. An order's protobuf bytes are made the first time
 * something needs them and kept beside the message (weakly, by identity), so the answer record,
 * the reply, Kafka, the order-update publish, the open-order cache and the streams that relay an
 * update all write the same bytes instead of encoding the order again: with many string fields,
 * encoding an Order was one of the largest items in the service's CPU profile. The messages are
 * never changed once made, which is what makes the bytes safe to keep.
 *
 * The envelopes around them (PlaceOrderResponse, OrderEntryResponse, StreamOrderUpdatesResponse)
 * are written here from those bytes, exactly as the generated encoders would write them.
 */
import { BinaryReader, BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import {
  Execution,
  Order,
  OrderEntryError,
  type OrderEntryResponse,
  type StreamOrderUpdatesResponse,
} from "@hft/contract/grpc/hft/v1/order_service.js";

const encodings = new WeakMap<Order | Execution, Uint8Array>();

/** The protobuf bytes of `order`, encoded on first use. */
export function encodedOrder(order: Order): Uint8Array {
  let bytes = encodings.get(order);
  if (!bytes) encodings.set(order, (bytes = Order.encode(order).finish()));
  return bytes;
}

/** The protobuf bytes of `execution`, encoded on first use. */
export function encodedExecution(execution: Execution): Uint8Array {
  let bytes = encodings.get(execution);
  if (!bytes) encodings.set(execution, (bytes = Execution.encode(execution).finish()));
  return bytes;
}

/** `bytes` as a Buffer over the same memory (grpc-js and Redis take Buffers; no copy). */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A message whose only field is `order = 1` (PlaceOrderResponse, GetOrderResponse, ...). */
export function encodeOrderResponse(response: { readonly order?: Order | undefined }): Buffer {
  const writer = new BinaryWriter();
  if (response.order !== undefined) writer.uint32(10).bytes(encodedOrder(response.order));
  return asBuffer(writer.finish());
}

export function encodeOrderEntryResponse(response: OrderEntryResponse): Buffer {
  const writer = new BinaryWriter();
  if (response.requestId !== 0n) writer.uint32(8).uint64(response.requestId);
  if (response.result?.$case === "order") writer.uint32(18).bytes(encodedOrder(response.result.value));
  else if (response.result?.$case === "error") OrderEntryError.encode(response.result.value, writer.uint32(26).fork()).join();
  if (response.execution !== undefined) writer.uint32(34).bytes(encodedExecution(response.execution));
  return asBuffer(writer.finish());
}

export function encodeOrderUpdate(update: StreamOrderUpdatesResponse): Buffer {
  const writer = new BinaryWriter();
  if (update.order !== undefined) writer.uint32(10).bytes(encodedOrder(update.order));
  if (update.execution !== undefined) writer.uint32(18).bytes(encodedExecution(update.execution));
  return asBuffer(writer.finish());
}

/**
 * Decodes a StreamOrderUpdatesResponse as the generated decoder does (unknown fields skipped),
 * keeping the bytes of its order and execution for {@link encodedOrder} and {@link encodedExecution}.
 */
export function decodeOrderUpdate(bytes: Uint8Array): StreamOrderUpdatesResponse {
  const reader = new BinaryReader(bytes);
  const update: StreamOrderUpdatesResponse = { order: undefined, execution: undefined };
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if ((field === 1 || field === 2) && wireType === WireType.LengthDelimited) {
      const part = reader.bytes();
      if (field === 1) encodings.set((update.order = Order.decode(part)), part);
      else encodings.set((update.execution = Execution.decode(part)), part);
    } else {
      reader.skip(wireType, field);
    }
  }
  return update;
}
