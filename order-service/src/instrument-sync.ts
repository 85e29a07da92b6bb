/**
 * The engine starts with no instruments: the order service defines its shard's instruments from
 * PostgreSQL whenever its link to the engine comes up, before the link takes orders (the link's
 * `prepare`). Defining again is harmless (the engine updates the limits and keeps the book), so
 * every replica may do it.
 */
import { toUnits } from "@hft/service-kit";
import { RejectReason } from "@hft/contract/grpc/hft/v1/types.js";
import type { Catalog } from "./catalog.js";
import type { CommandAck } from "@hft/contract/grpc/hft/v1/engine_service.js";
import type { EngineCommandBody } from "./engine-link.js";

export async function defineShardInstruments(catalog: Catalog, send: (command: EngineCommandBody) => Promise<CommandAck>, shard: string): Promise<number> {
  const instruments = await catalog.instrumentsOf(shard);
  const acks = await Promise.all(
    instruments.map((i) =>
      send({
        $case: "defineInstrument",
        value: {
          instrumentId: i.id,
          symbol: i.symbol,
          tickSize: i.tickSize,
          lotSize: i.lotSize,
          minQuantityLots: toUnits(i.minQuantity, i.lotSize, "min_quantity"),
          maxQuantityLots: toUnits(i.maxQuantity, i.lotSize, "max_quantity"),
          priceBandLowTicks: toUnits(i.priceBandLow, i.tickSize, "price_band_low"),
          priceBandHighTicks: toUnits(i.priceBandHigh, i.tickSize, "price_band_high"),
        },
      }),
    ),
  );
  acks.forEach((ack, n) => {
    if (ack.rejectReason !== RejectReason.REJECT_REASON_UNSPECIFIED) {
      throw new Error(`the engine of shard ${shard} refused instrument ${instruments[n]!.symbol}: ${ack.rejectMessage}`);
    }
  });
  return instruments.length;
}
