/**
 * The engine shards the service talks to, from ENGINE_SHARDS:
 *   name=host:port@firstOrderId[,name=host:port@firstOrderId...]
 * Each shard's engine runs with `--first-order-id` set to its first order id, so the ranges are
 * disjoint and an order id alone says which shard holds the order (cancel and replace need no
 * lookup). Instruments name their shard in the `instruments` table.
 */
export interface ShardConfig {
  readonly name: string;
  readonly address: string;
  readonly firstOrderId: bigint;
}

const shardPattern = /^([a-z0-9_-]{1,32})=((?:[A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\]):\d{1,5})@(\d{1,19})$/;

/** Parses ENGINE_SHARDS; throws an Error naming the variable and the bad part. */
export function parseShards(value: string): ShardConfig[] {
  const shards = value
    .split(",")
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const match = shardPattern.exec(part);
      if (!match) throw new Error(`ENGINE_SHARDS: expected name=host:port@firstOrderId, got "${part}"`);
      const firstOrderId = BigInt(match[3]!);
      if (firstOrderId < 1n) throw new Error(`ENGINE_SHARDS: the first order id of ${match[1]} must be at least 1`);
      return { name: match[1]!, address: match[2]!, firstOrderId };
    })
    .sort((a, b) => (a.firstOrderId < b.firstOrderId ? -1 : 1));
  if (shards.length === 0) throw new Error("ENGINE_SHARDS: expected at least one shard");
  for (let i = 1; i < shards.length; i++) {
    if (shards[i]!.firstOrderId === shards[i - 1]!.firstOrderId) throw new Error(`ENGINE_SHARDS: ${shards[i - 1]!.name} and ${shards[i]!.name} share first order id ${shards[i]!.firstOrderId}`);
    if (shards.some((s, j) => j !== i && s.name === shards[i]!.name)) throw new Error(`ENGINE_SHARDS: shard ${shards[i]!.name} is named twice`);
  }
  return shards;
}

/** The shard whose id range holds `orderId`: the one with the greatest first id not above it. */
export function shardOfOrder(shards: readonly ShardConfig[], orderId: bigint): ShardConfig | undefined {
  let found: ShardConfig | undefined;
  for (const shard of shards) if (shard.firstOrderId <= orderId) found = shard;
  return found;
}
