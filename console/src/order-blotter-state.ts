/**
 * The account's orders as the blotter shows them, merged from ListOrders pages and the order
 * update stream in any order: each order keeps the version with the highest engine sequence, so a
 * late page never undoes a newer update.
 */
import type { Order } from "@hft/sdk/web";

export type OrdersById = ReadonlyMap<string, Order>;

export function mergeOrders(current: OrdersById, incoming: readonly Order[]): OrdersById {
  let next: Map<string, Order> | undefined;
  for (const order of incoming) {
    const known = (next ?? current).get(order.orderId);
    if (known && known.sequence >= order.sequence) continue;
    next ??= new Map(current);
    next.set(order.orderId, order);
  }
  return next ?? current;
}

/** Newest first: by creation time, then by order id (each shard assigns its ids in order). */
export function blotterRows(orders: OrdersById): Order[] {
  const created = (order: Order) => (order.createTime ? order.createTime.seconds * 1_000_000_000n + BigInt(order.createTime.nanos) : 0n);
  const descending = (x: bigint, y: bigint) => (x > y ? -1 : x < y ? 1 : 0);
  return [...orders.values()].sort((a, b) => descending(created(a), created(b)) || descending(BigInt(a.orderId), BigInt(b.orderId)));
}
