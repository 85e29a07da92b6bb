import { describe, expect, it } from "vitest";
import { parseShards, shardOfOrder } from "./shards.js";

describe("ENGINE_SHARDS", () => {
  it("parses shards and routes an order id to the range that holds it", () => {
    const shards = parseShards("b=127.0.0.1:50052@1000000000, a=127.0.0.1:50051@1");
    expect(shards.map((s) => s.name)).toEqual(["a", "b"]);
    expect(shardOfOrder(shards, 1n)?.name).toBe("a");
    expect(shardOfOrder(shards, 999_999_999n)?.name).toBe("a");
    expect(shardOfOrder(shards, 1_000_000_000n)?.name).toBe("b");
    expect(shardOfOrder(parseShards("x=[::1]:50051@10"), 9n)).toBeUndefined();
  });

  it("names what is wrong", () => {
    expect(() => parseShards("")).toThrow("ENGINE_SHARDS: expected at least one shard");
    expect(() => parseShards("a=localhost@1")).toThrow('ENGINE_SHARDS: expected name=host:port@firstOrderId, got "a=localhost@1"');
    expect(() => parseShards("a=h:1@0")).toThrow("ENGINE_SHARDS: the first order id of a must be at least 1");
    expect(() => parseShards("a=h:1@5,b=h:2@5")).toThrow("ENGINE_SHARDS: a and b share first order id 5");
    expect(() => parseShards("a=h:1@5,a=h:2@6")).toThrow("ENGINE_SHARDS: shard a is named twice");
  });
});
