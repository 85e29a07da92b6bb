import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_PAGE_SIZE,
  MAX_PAGE_SIZE,
  MAX_PAGE_TOKEN_LENGTH,
  PaginationError,
  type PageCursor,
  type PageFilters,
  createPageTokenCodec,
  normalizePageSize,
} from "./page-token.js";

const key = "k".repeat(32);
const otherKey = "o".repeat(32);
const orders = createPageTokenCodec({ scope: "orders", key });
const filters: PageFilters = { account: "1", symbol: "BTC-USD", statuses: [1, 2], side: 0 };
const cursor: PageCursor = { time: 1_764_064_800_123_456n, id: 42n };

function refusal(run: () => unknown): PaginationError {
  try {
    run();
  } catch (err) {
    if (err instanceof PaginationError) return err;
    throw err;
  }
  throw new Error("expected a PaginationError");
}

/** The token's bytes, to craft tokens a client could not. */
function bytesOf(token: string): Buffer {
  return Buffer.from(token, "base64url");
}

describe("normalizePageSize", () => {
  it("reads 0 as the default and keeps 1 to 1000", () => {
    expect(normalizePageSize(0)).toBe(DEFAULT_PAGE_SIZE);
    expect(DEFAULT_PAGE_SIZE).toBe(100);
    expect(normalizePageSize(1)).toBe(1);
    expect(normalizePageSize(100)).toBe(100);
    expect(normalizePageSize(999)).toBe(999);
    expect(normalizePageSize(MAX_PAGE_SIZE)).toBe(1000);
  });

  it.each([1001, -1, 2 ** 31, 1.5, Number.NaN, Number.POSITIVE_INFINITY])("refuses %d, naming page_size", (size) => {
    const err = refusal(() => normalizePageSize(size));
    expect(err.code).toBe("PAGE_SIZE_OUT_OF_RANGE");
    expect(err.field).toBe("page_size");
    expect(err.message).toBe(`page_size must be a whole number from 0 to 1000 (0 means 100); got ${size}`);
  });
});

describe("createPageTokenCodec", () => {
  it("round-trips a cursor", () => {
    const token = orders.encode(cursor, filters);
    expect(orders.decode(token, filters)).toEqual({ ...cursor, part: 0 });
  });

  it.each<PageCursor>([
    { time: 0n, id: 0n },
    { time: 1n, id: 1n, part: 1 },
    { time: -1n, id: 7n, part: 255 },
    { time: 2n ** 63n - 1n, id: 2n ** 64n - 1n },
    { time: -(2n ** 63n), id: 2n ** 63n - 1n },
  ])("round-trips the extreme cursor %o", (extreme) => {
    expect(orders.decode(orders.encode(extreme, filters), filters)).toEqual({ part: 0, ...extreme });
  });

  it("issues short base64url tokens, the same for the same position", () => {
    const token = orders.encode(cursor, filters);
    expect(token).toMatch(/^[A-Za-z0-9_-]{88}$/);
    expect(token.length).toBeLessThanOrEqual(MAX_PAGE_TOKEN_LENGTH);
    expect(orders.encode(cursor, filters)).toBe(token);
    expect(orders.encode({ ...cursor, id: 43n }, filters)).not.toBe(token);
  });

  it("reads an empty token as the first page", () => {
    expect(orders.decode("", filters)).toBeUndefined();
  });

  it("binds the token to the filters, whatever the key order", () => {
    const token = orders.encode(cursor, { symbol: "BTC-USD", account: "1", statuses: [1, 2], side: 0 });
    expect(orders.decode(token, filters)).toEqual({ ...cursor, part: 0 });
    expect(orders.decode(token, { ...filters, startTime: undefined })).toEqual({ ...cursor, part: 0 });
  });

  it.each<[string, PageFilters]>([
    ["another symbol", { ...filters, symbol: "ETH-USD" }],
    ["another account", { ...filters, account: "2" }],
    ["one more status", { ...filters, statuses: [1, 2, 3] }],
    ["statuses in another order", { ...filters, statuses: [2, 1] }],
    ["a filter dropped", { account: "1", symbol: "BTC-USD", statuses: [1, 2] }],
    ["a filter added", { ...filters, startTime: { seconds: 1n, nanos: 0 } }],
    ["a number where a string was", { ...filters, account: 1 }],
    ["a bigint where a string was", { ...filters, account: 1n }],
    ["no filters", {}],
  ])("refuses a token with %s", (_case, other) => {
    const err = refusal(() => orders.decode(orders.encode(cursor, filters), other));
    expect(err.code).toBe("PAGE_TOKEN_OTHER_FILTERS");
    expect(err.field).toBe("page_token");
    expect(err.message).toBe(
      "page_token was issued for a request with other filters; send the first page's filters again, or start again without page_token",
    );
  });

  it("tells nested values apart (a protobuf Timestamp, a Date, bytes)", () => {
    const withTime = (startTime: unknown) => ({ ...filters, startTime });
    const token = orders.encode(cursor, withTime({ seconds: 1_764_064_800n, nanos: 5 }));
    expect(orders.decode(token, withTime({ nanos: 5, seconds: 1_764_064_800n }))).toEqual({ ...cursor, part: 0 });
    expect(refusal(() => orders.decode(token, withTime({ seconds: 1_764_064_800n, nanos: 6 }))).code).toBe("PAGE_TOKEN_OTHER_FILTERS");
    const dated = orders.encode(cursor, withTime(new Date(0)));
    expect(orders.decode(dated, withTime(new Date(0)))).toEqual({ ...cursor, part: 0 });
    expect(refusal(() => orders.decode(dated, withTime(new Date(1)))).code).toBe("PAGE_TOKEN_OTHER_FILTERS");
    const bytes = orders.encode(cursor, withTime(new Uint8Array([1, 2])));
    expect(refusal(() => orders.decode(bytes, withTime(new Uint8Array([1, 3])))).code).toBe("PAGE_TOKEN_OTHER_FILTERS");
  });

  it("refuses a token of another list", () => {
    const executions = createPageTokenCodec({ scope: "executions", key });
    expect(refusal(() => executions.decode(orders.encode(cursor, filters), filters)).code).toBe("PAGE_TOKEN_OTHER_FILTERS");
  });

  it("refuses a token changed in any one character", () => {
    const token = orders.encode(cursor, filters);
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for (let i = 0; i < token.length; i += 1) {
      const replacement = alphabet[(alphabet.indexOf(token.charAt(i)) + 1) % alphabet.length] ?? "A";
      const tampered = `${token.slice(0, i)}${replacement}${token.slice(i + 1)}`;
      const err = refusal(() => orders.decode(tampered, filters));
      expect(["PAGE_TOKEN_FORGED", "PAGE_TOKEN_MALFORMED"]).toContain(err.code);
      expect(err.field).toBe("page_token");
    }
  });

  it("refuses a position edited by a client, as forged", () => {
    const bytes = bytesOf(orders.encode(cursor, filters));
    bytes.writeBigUInt64BE(41n, 9);
    const err = refusal(() => orders.decode(bytes.toString("base64url"), filters));
    expect(err.code).toBe("PAGE_TOKEN_FORGED");
    expect(err.message).toBe("page_token failed its integrity check: it was altered or signed with another key; start again without page_token");
  });

  it("refuses a token signed with another key", () => {
    const stranger = createPageTokenCodec({ scope: "orders", key: otherKey });
    expect(refusal(() => orders.decode(stranger.encode(cursor, filters), filters)).code).toBe("PAGE_TOKEN_FORGED");
  });

  it("accepts tokens of a previous key during a rotation and signs with the new one", () => {
    const before = createPageTokenCodec({ scope: "orders", key: otherKey });
    const rotated = createPageTokenCodec({ scope: "orders", key, previousKeys: [otherKey] });
    expect(rotated.decode(before.encode(cursor, filters), filters)).toEqual({ ...cursor, part: 0 });
    expect(orders.decode(rotated.encode(cursor, filters), filters)).toEqual({ ...cursor, part: 0 });
    expect(refusal(() => before.decode(rotated.encode(cursor, filters), filters)).code).toBe("PAGE_TOKEN_FORGED");
  });

  it("accepts a key given as bytes", () => {
    const fromBytes = createPageTokenCodec({ scope: "orders", key: Buffer.from(key) });
    expect(fromBytes.decode(orders.encode(cursor, filters), filters)).toEqual({ ...cursor, part: 0 });
  });

  it.each<[string, string, string]>([
    ["not base64url", "not a token!", "page_token is not base64url text; pass next_page_token unchanged"],
    ["standard base64", "ab+c/d", "page_token is not base64url text; pass next_page_token unchanged"],
    ["padded", `${orders.encode(cursor, filters)}==`, "page_token is not base64url text; pass next_page_token unchanged"],
    ["a non-canonical last character", "AB", "page_token is not base64url text; pass next_page_token unchanged"],
    ["cut short", orders.encode(cursor, filters).slice(0, 80), "page_token has the wrong length; pass next_page_token unchanged"],
    ["too long for any token", "A".repeat(MAX_PAGE_TOKEN_LENGTH + 4), "page_token is 516 characters long; at most 512 are allowed"],
    ["extended", `${orders.encode(cursor, filters)}AAAA`, "page_token has the wrong length; pass next_page_token unchanged"],
  ])("refuses a token that is %s, naming page_token", (_case, token, message) => {
    const err = refusal(() => orders.decode(token, filters));
    expect(err.code).toBe("PAGE_TOKEN_MALFORMED");
    expect(err.field).toBe("page_token");
    expect(err.message).toBe(message);
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe("PaginationError");
  });

  it("refuses a genuine token of a version it does not read", () => {
    const bytes = bytesOf(orders.encode(cursor, filters));
    bytes.writeUInt8(2, 0);
    createHmac("sha256", key).update(bytes.subarray(0, 34)).digest().copy(bytes, 34);
    const err = refusal(() => orders.decode(bytes.toString("base64url"), filters));
    expect(err.code).toBe("PAGE_TOKEN_UNSUPPORTED_VERSION");
    expect(err.message).toBe("page_token has version 2; this server reads version 1");
  });

  it("refuses to encode a cursor beyond its fields", () => {
    expect(() => orders.encode({ time: 2n ** 63n, id: 1n }, filters)).toThrow("cursor time 9223372036854775808 is beyond int64");
    expect(() => orders.encode({ time: 1n, id: -1n }, filters)).toThrow("cursor id -1 is beyond uint64");
    expect(() => orders.encode({ time: 1n, id: 2n ** 64n }, filters)).toThrow(RangeError);
    expect(() => orders.encode({ time: 1n, id: 1n, part: 256 }, filters)).toThrow("cursor part 256 must be a whole number from 0 to 255");
    expect(() => orders.encode({ time: 1n, id: 1n, part: 0.5 }, filters)).toThrow(RangeError);
  });

  it("refuses filters that are not plain data", () => {
    expect(() => orders.encode(cursor, { symbol: new Map() })).toThrow("page filter filters.symbol is a Map; use plain data");
    expect(() => orders.encode(cursor, { side: Number.NaN })).toThrow("page filter filters.side is NaN; only finite numbers are allowed");
    expect(() => orders.encode(cursor, { statuses: [1, undefined] })).toThrow("page filter filters.statuses[1] is undefined; use plain data");
    expect(() => orders.encode(cursor, { startTime: new Date(Number.NaN) })).toThrow("page filter filters.startTime is an invalid Date");
  });

  it("refuses a key shorter than 32 bytes", () => {
    expect(() => createPageTokenCodec({ scope: "orders", key: "short" })).toThrow("page token key must be at least 32 bytes; got 5");
    expect(() => createPageTokenCodec({ scope: "orders", key, previousKeys: ["short"] })).toThrow("page token previousKeys[0] must be at least 32 bytes; got 5");
  });
});
