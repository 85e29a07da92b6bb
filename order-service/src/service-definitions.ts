/**
 * The gRPC definitions the order service serves: the generated ones with two changes that spare
 * it encoding work. Every request remembers the bytes it was decoded from, so protovalidate reads
 * those instead of an encoding of the decoded request (and refuses bytes that do not decode); and
 * the responses that carry orders are written from the orders' kept encodings
 * (encoded-messages.ts) rather than encoded again.
 */
import { MarketDataServiceService } from "@hft/contract/grpc/hft/v1/market_data_service.js";
import { OrderServiceService } from "@hft/contract/grpc/hft/v1/order_service.js";
import { encodeOrderEntryResponse, encodeOrderResponse, encodeOrderUpdate } from "./encoded-messages.js";

const received = new WeakMap<object, Uint8Array>();

/** The bytes a request arrived as, when it came over the wire. */
export function receivedBytes(request: object): Uint8Array | undefined {
  return received.get(request);
}

function withReceivedBytes<D extends Record<string, { readonly requestDeserialize: (bytes: Buffer) => object }>>(definition: D): D {
  return Object.fromEntries(
    Object.entries(definition).map(([name, method]) => [
      name,
      {
        ...method,
        requestDeserialize: (bytes: Buffer) => {
          let request: object;
          try {
            request = method.requestDeserialize(bytes);
          } catch {
            // grpc-js answers a throwing deserializer INTERNAL. A blank request instead, still with
            // its bytes: the handlers' first step, validating those bytes, refuses it as
            // INVALID_ARGUMENT saying what is wrong with them.
            request = {};
          }
          received.set(request, bytes);
          return request;
        },
      },
    ]),
  ) as D;
}

const orderService = withReceivedBytes(OrderServiceService);

export const orderServiceDefinition: typeof OrderServiceService = {
  ...orderService,
  placeOrder: { ...orderService.placeOrder, responseSerialize: encodeOrderResponse },
  getOrder: { ...orderService.getOrder, responseSerialize: encodeOrderResponse },
  cancelOrder: { ...orderService.cancelOrder, responseSerialize: encodeOrderResponse },
  replaceOrder: { ...orderService.replaceOrder, responseSerialize: encodeOrderResponse },
  orderEntry: { ...orderService.orderEntry, responseSerialize: encodeOrderEntryResponse },
  streamOrderUpdates: { ...orderService.streamOrderUpdates, responseSerialize: encodeOrderUpdate },
};

export const marketDataServiceDefinition: typeof MarketDataServiceService = withReceivedBytes(MarketDataServiceService);
