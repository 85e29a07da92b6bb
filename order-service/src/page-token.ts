/**
 * Opaque page tokens for ListOrders and ListExecutions, and the page size those requests mean.
 *
 * A token is a keyset position, not an offset: the last row of a page, so the next page is
 * `WHERE (time, id, part) < (cursor) ORDER BY time DESC, id DESC, part DESC` and stays right while
 * new rows arrive. It also carries a digest of the request's filters, so a token sent with other
 * filters is refused rather than silently paging a different list, and an HMAC under a server key,
 * so a client can neither forge a position nor edit one. The token is base64url of
 *
 *   version (1 byte) | time (int64) | id (uint64) | part (1 byte) | filters digest (16 bytes) | HMAC-SHA256 (32 bytes)
 *
 * 88 characters, well under the 512 the proto allows. It is not encrypted: it holds nothing the
 * client did not already receive (the last row's time and id).
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";

/** What a page_size of 0 means. */
export const DEFAULT_PAGE_SIZE = 100;
/** The largest page_size the proto accepts. */
export const MAX_PAGE_SIZE = 1000;
/** The longest page_token the proto accepts. */
export const MAX_PAGE_TOKEN_LENGTH = 512;

export type PaginationErrorCode =
  | "PAGE_SIZE_OUT_OF_RANGE"
  | "PAGE_TOKEN_MALFORMED"
  | "PAGE_TOKEN_FORGED"
  | "PAGE_TOKEN_OTHER_FILTERS"
  | "PAGE_TOKEN_UNSUPPORTED_VERSION";

/** A refused page_size or page_token; the gRPC status to answer with is INVALID_ARGUMENT. */
export class PaginationError extends Error {
  override readonly name = "PaginationError";
  constructor(
    readonly code: PaginationErrorCode,
    readonly field: "page_size" | "page_token",
    message: string,
  ) {
    super(message);
  }
}

/**
 * The number of rows a request's page_size asks for: 0 (unset) means {@link DEFAULT_PAGE_SIZE},
 * 1 to {@link MAX_PAGE_SIZE} is taken as is. Anything else is refused, as the proto's
 * `int32 { gte: 0, lte: 1000 }` rule does, in case a request reached here unvalidated.
 */
export function normalizePageSize(pageSize: number): number {
  if (!Number.isInteger(pageSize) || pageSize < 0 || pageSize > MAX_PAGE_SIZE) {
    throw new PaginationError(
      "PAGE_SIZE_OUT_OF_RANGE",
      "page_size",
      `page_size must be a whole number from 0 to ${MAX_PAGE_SIZE} (0 means ${DEFAULT_PAGE_SIZE}); got ${pageSize}`,
    );
  }
  return pageSize === 0 ? DEFAULT_PAGE_SIZE : pageSize;
}

/**
 * A position in a list ordered newest first: the last row of the page just returned.
 *
 * `time` must be the row's exact timestamp in µs since the Unix epoch (PostgreSQL's resolution):
 * select it as `(extract(epoch from created_at) * 1000000)::bigint` and compare with
 * `timestamptz 'epoch' + $1 * interval '1 microsecond'`, never through a JavaScript Date (ms),
 * which would skip rows that share the millisecond.
 */
export interface PageCursor {
  /** created_at of an order, executed_at of an execution, in µs since the Unix epoch. */
  readonly time: bigint;
  /** order_id of an order, trade_id of an execution. */
  readonly id: bigint;
  /**
   * Tells apart rows that share time and id, 0 to 255; default 0. An account that trades with
   * itself has two executions of one trade: maker (0) and taker (1).
   */
  readonly part?: number;
}

/**
 * The filters of a list request, which a token is bound to. Values may be strings, numbers,
 * bigints, booleans, null, Dates, byte arrays, arrays and plain objects (a protobuf Timestamp);
 * keys with an undefined value count as absent. Arrays are compared in order: sort set-like
 * filters (statuses) before passing them. Include the listed account, so a token cannot be
 * carried from one account's list to another's.
 */
export type PageFilters = { readonly [name: string]: unknown };

export interface PageTokenCodecOptions {
  /** Which list the tokens page ("orders", "executions"); a token of one is refused by another. */
  readonly scope: string;
  /** The HMAC key, at least 32 bytes; the same on every replica. */
  readonly key: string | Uint8Array;
  /** Keys that signed tokens still in use, still accepted when decoding during a key rotation. */
  readonly previousKeys?: readonly (string | Uint8Array)[];
}

export interface PageTokenCodec {
  /** The next_page_token that continues after `cursor` for a request with `filters`. */
  encode(cursor: PageCursor, filters: PageFilters): string;
  /**
   * The position a request's page_token continues from, or undefined for "" (the first page).
   * Throws a {@link PaginationError} naming page_token when the token is malformed, was altered or
   * signed by an unknown key, or was issued for other filters.
   */
  decode(token: string, filters: PageFilters): Required<PageCursor> | undefined;
}

const version = 1;
const digestLength = 16;
const macLength = 32;
// version, time, id, part, filters digest
const payloadLength = 1 + 8 + 8 + 1 + digestLength;
const tokenLength = payloadLength + macLength;
const minKeyLength = 32;
const base64url = /^[A-Za-z0-9_-]+$/;
const int64Min = -(2n ** 63n);
const int64Max = 2n ** 63n - 1n;
const uint64Max = 2n ** 64n - 1n;

/** Creates the codec of one list's page tokens. */
export function createPageTokenCodec(options: PageTokenCodecOptions): PageTokenCodec {
  const key = keyBytes(options.key, "key");
  const keys = [key, ...(options.previousKeys ?? []).map((previous, i) => keyBytes(previous, `previousKeys[${i}]`))];
  const digestOf = (filters: PageFilters) =>
    createHash("sha256").update(`hft.page_token.filters\0${options.scope}\0${canonical(filters, "filters")}`).digest().subarray(0, digestLength);

  return {
    encode: function encodePageToken(cursor, filters) {
      const part = cursor.part ?? 0;
      if (cursor.time < int64Min || cursor.time > int64Max) throw new RangeError(`cursor time ${cursor.time} is beyond int64`);
      if (cursor.id < 0n || cursor.id > uint64Max) throw new RangeError(`cursor id ${cursor.id} is beyond uint64`);
      if (!Number.isInteger(part) || part < 0 || part > 255) throw new RangeError(`cursor part ${part} must be a whole number from 0 to 255`);
      const payload = Buffer.alloc(payloadLength);
      payload.writeUInt8(version, 0);
      payload.writeBigInt64BE(cursor.time, 1);
      payload.writeBigUInt64BE(cursor.id, 9);
      payload.writeUInt8(part, 17);
      digestOf(filters).copy(payload, 18);
      return Buffer.concat([payload, mac(key, payload)]).toString("base64url");
    },

    decode: function decodePageToken(token, filters) {
      if (token === "") return undefined;
      if (token.length > MAX_PAGE_TOKEN_LENGTH) {
        throw malformed(`page_token is ${token.length} characters long; at most ${MAX_PAGE_TOKEN_LENGTH} are allowed`);
      }
      const bytes = base64url.test(token) ? Buffer.from(token, "base64url") : undefined;
      // Only the canonical text of the bytes is accepted, so no two tokens decode alike.
      if (!bytes || bytes.toString("base64url") !== token) throw malformed("page_token is not base64url text; pass next_page_token unchanged");
      if (bytes.length !== tokenLength) throw malformed("page_token has the wrong length; pass next_page_token unchanged");
      const payload = bytes.subarray(0, payloadLength);
      const tag = bytes.subarray(payloadLength);
      if (!keys.some((candidate) => timingSafeEqual(mac(candidate, payload), tag))) {
        throw new PaginationError(
          "PAGE_TOKEN_FORGED",
          "page_token",
          "page_token failed its integrity check: it was altered or signed with another key; start again without page_token",
        );
      }
      if (payload.readUInt8(0) !== version) {
        throw new PaginationError(
          "PAGE_TOKEN_UNSUPPORTED_VERSION",
          "page_token",
          `page_token has version ${payload.readUInt8(0)}; this server reads version ${version}`,
        );
      }
      if (!timingSafeEqual(payload.subarray(18), digestOf(filters))) {
        throw new PaginationError(
          "PAGE_TOKEN_OTHER_FILTERS",
          "page_token",
          "page_token was issued for a request with other filters; send the first page's filters again, or start again without page_token",
        );
      }
      return { time: payload.readBigInt64BE(1), id: payload.readBigUInt64BE(9), part: payload.readUInt8(17) };
    },
  };
}

function malformed(message: string): PaginationError {
  return new PaginationError("PAGE_TOKEN_MALFORMED", "page_token", message);
}

function mac(key: Buffer, payload: Buffer): Buffer {
  return createHmac("sha256", key).update(payload).digest();
}

function keyBytes(key: string | Uint8Array, name: string): Buffer {
  const bytes = typeof key === "string" ? Buffer.from(key, "utf8") : Buffer.from(key);
  if (bytes.length < minKeyLength) throw new RangeError(`page token ${name} must be at least ${minKeyLength} bytes; got ${bytes.length}`);
  return bytes;
}

/**
 * One text per filter value, unambiguous across types (the bigint 1n, the number 1 and the string
 * "1" differ) and independent of key order.
 */
function canonical(value: unknown, path: string): string {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "boolean":
      return String(value);
    case "bigint":
      return `${value}n`;
    case "number":
      if (!Number.isFinite(value)) throw new TypeError(`page filter ${path} is ${value}; only finite numbers are allowed`);
      return JSON.stringify(value);
    case "object":
      if (value === null) return "null";
      if (value instanceof Date) {
        if (Number.isNaN(value.getTime())) throw new TypeError(`page filter ${path} is an invalid Date`);
        return `date(${value.toISOString()})`;
      }
      if (value instanceof Uint8Array) return `bytes(${Buffer.from(value).toString("base64url")})`;
      if (Array.isArray(value)) return `[${value.map((item, i) => canonical(item, `${path}[${i}]`)).join(",")}]`;
      if (isPlainObject(value)) {
        const entries = Object.entries(value)
          .filter(([, item]) => item !== undefined)
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .map(([name, item]) => `${JSON.stringify(name)}:${canonical(item, `${path}.${name}`)}`);
        return `{${entries.join(",")}}`;
      }
      throw new TypeError(`page filter ${path} is a ${value.constructor?.name ?? "object"}; use plain data`);
    default:
      // undefined inside an array, a function, a symbol.
      throw new TypeError(`page filter ${path} is ${typeof value}; use plain data`);
  }
}

function isPlainObject(value: object): boolean {
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}
