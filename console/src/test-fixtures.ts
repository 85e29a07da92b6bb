// Messages the console's tests build from, as the platform would send them.
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { type Instrument, InstrumentSchema, type Order, OrderSchema, OrderStatus, OrderType, Side, TimeInForce, TradingStatus } from "@hft/sdk/web";

export const btc: Instrument = create(InstrumentSchema, {
  symbol: "BTC-USD",
  tickSize: "0.01",
  lotSize: "0.001",
  minQuantity: "0.001",
  maxQuantity: "100",
  priceBandLow: "1.00",
  priceBandHigh: "1000000.00",
  tradingStatus: TradingStatus.OPEN,
});

export const eth: Instrument = create(InstrumentSchema, { ...btc, symbol: "ETH-USD", tickSize: "0.05", lotSize: "0.01", minQuantity: "0.01" });

export function order(fields: Partial<Omit<Order, "$typeName">> & Pick<Order, "orderId">): Order {
  return create(OrderSchema, {
    clientOrderId: `c-${fields.orderId}`,
    account: "alice",
    symbol: "BTC-USD",
    side: Side.BUY,
    type: OrderType.LIMIT,
    timeInForce: TimeInForce.GTC,
    price: "100.00",
    quantity: "1.000",
    filledQuantity: "0.000",
    remainingQuantity: "1.000",
    status: OrderStatus.NEW,
    createTime: timestampFromMs((1_790_000_000 + Number(fields.orderId)) * 1000),
    sequence: BigInt(fields.orderId),
    ...fields,
  });
}
