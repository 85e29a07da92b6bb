import type { ClientDuplexStream } from "@grpc/grpc-js";
import type { EngineCommand, OrderFlowRequest, OrderFlowResponse, CommandAck } from "@hft/contract/grpc/hft/v1/engine_service.js";
import { OrderType, SelfTradePrevention, type Side, TimeInForce } from "@hft/contract/grpc/hft/v1/types.js";

export const defineBtc = (correlationId: bigint): EngineCommand => ({
  correlationId,
  command: {
    $case: "defineInstrument",
    value: {
      instrumentId: 1,
      symbol: "BTC-USD",
      tickSize: "0.01",
      lotSize: "0.0001",
      minQuantityLots: 1n,
      maxQuantityLots: 10_000_000n,
      priceBandLowTicks: 1n,
      priceBandHighTicks: 100_000_000n,
    },
  },
});

export interface LimitSpec {
  readonly account: bigint;
  readonly side: Side;
  readonly price: bigint;
  readonly quantity: bigint;
  readonly clientOrderId: string;
}

export const limit = (correlationId: bigint, spec: LimitSpec): EngineCommand => ({
  correlationId,
  command: {
    $case: "newOrder",
    value: {
      accountId: spec.account,
      instrumentId: 1,
      clientOrderId: spec.clientOrderId,
      side: spec.side,
      type: OrderType.ORDER_TYPE_LIMIT,
      timeInForce: TimeInForce.TIME_IN_FORCE_GTC,
      priceTicks: spec.price,
      stopPriceTicks: 0n,
      quantityLots: spec.quantity,
      displayQuantityLots: 0n,
      postOnly: false,
      selfTradePrevention: SelfTradePrevention.SELF_TRADE_PREVENTION_UNSPECIFIED,
    },
  },
});

/** Sends batches on one OrderFlow stream and collects every ack in arrival order. */
export class OrderFlowSession {
  readonly acks: CommandAck[] = [];
  readonly done: Promise<void>;
  private waiters: { count: number; resolve: () => void }[] = [];

  constructor(readonly stream: ClientDuplexStream<OrderFlowRequest, OrderFlowResponse>) {
    stream.on("data", (response: OrderFlowResponse) => {
      this.acks.push(...response.acks);
      this.waiters = this.waiters.filter((w) => (this.acks.length >= w.count ? (w.resolve(), false) : true));
    });
    this.done = new Promise((resolve, reject) => {
      stream.on("end", () => resolve());
      stream.on("error", (err) => reject(err));
    });
    // A test that kills the engine expects the stream to fail; only an awaited `done` reports it.
    this.done.catch(() => undefined);
  }

  send(commands: EngineCommand[]): void {
    this.stream.write({ commands });
  }

  /** Resolves once `count` acks in total have arrived. */
  async waitForAcks(count: number, timeoutMs = 10_000): Promise<CommandAck[]> {
    if (this.acks.length < count) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`only ${this.acks.length} of ${count} acks after ${timeoutMs} ms`)), timeoutMs);
        this.waiters.push({ count, resolve: () => (clearTimeout(timer), resolve()) });
      });
    }
    return this.acks.slice(0, count);
  }
}
