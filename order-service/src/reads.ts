/**
 * ListOrders, ListExecutions and GetPositions: reads of the projection, newest first, paged by
 * keyset (never OFFSET) with signed page tokens bound to the request's filters and account.
 * GetPositions reads the projection's Redis cache while it can be trusted.
 */
import * as grpc from "@grpc/grpc-js";
import type { Redis } from "ioredis";
import type pg from "pg";
import type { Identity } from "@hft/service-kit";
import type { Timestamp } from "@hft/contract/grpc/google/protobuf/timestamp.js";
import type {
  GetPositionsRequest,
  ListExecutionsRequest,
  ListExecutionsResponse,
  ListOrdersRequest,
  ListOrdersResponse,
  Position,
} from "@hft/contract/grpc/hft/v1/order_service.js";
import { OrderStatus, Side } from "@hft/contract/grpc/hft/v1/types.js";
import { type Catalog, namesOf } from "./catalog.js";
import type { OrderMetrics } from "./metrics.js";
import { OrderError } from "./order-error.js";
import { type PageCursor, type PageTokenCodec, PaginationError, createPageTokenCodec, normalizePageSize } from "./page-token.js";
import { ORDER_COLUMNS, POSITION_COLUMNS, type ExecutionRow, type OrderRow, type PositionRow } from "./projection/apply-events.js";
import { type Names, executionMessage, orderMessage, positionMessage } from "./projection/records.js";
import { type CachedPosition, cachedPositions } from "./projection/redis-cache.js";

export interface ReadsOptions {
  readonly pool: pg.Pool;
  readonly catalog: Catalog;
  /** HMAC key of the page tokens, the same on every replica. */
  readonly pageTokenKey: string;
  /** Resolves the account a caller may read: its own, or any for an admin. */
  readonly readableAccount: (identity: Identity, requested: string) => Promise<{ id: bigint; name: string }>;
  /** The projection's Redis caches (written by the projection leader); without them, PostgreSQL answers every read. */
  readonly redis?: { readonly client: Redis; readonly keyPrefix: string };
  /** Times the Redis reads. */
  readonly metrics?: OrderMetrics;
}

const statusNames: Record<number, string> = {
  [OrderStatus.ORDER_STATUS_PENDING_TRIGGER]: "pending_trigger",
  [OrderStatus.ORDER_STATUS_NEW]: "new",
  [OrderStatus.ORDER_STATUS_PARTIALLY_FILLED]: "partially_filled",
  [OrderStatus.ORDER_STATUS_FILLED]: "filled",
  [OrderStatus.ORDER_STATUS_CANCELLED]: "cancelled",
  [OrderStatus.ORDER_STATUS_REJECTED]: "rejected",
  [OrderStatus.ORDER_STATUS_EXPIRED]: "expired",
};

/** µs since the epoch, exactly as PostgreSQL keeps timestamps. */
const micros = (ts: Timestamp | undefined) => (ts ? ts.seconds * 1_000_000n + BigInt(Math.floor(ts.nanos / 1_000)) : undefined);
const AT_MICROS = "timestamptz 'epoch' + $X::bigint * interval '1 microsecond'";
const at = (parameter: number) => AT_MICROS.replace("$X", `$${parameter}`);

export class Reads {
  private readonly orderTokens: PageTokenCodec;
  private readonly executionTokens: PageTokenCodec;

  constructor(private readonly options: ReadsOptions) {
    this.orderTokens = createPageTokenCodec({ scope: "orders", key: options.pageTokenKey });
    this.executionTokens = createPageTokenCodec({ scope: "executions", key: options.pageTokenKey });
  }

  async listOrders(identity: Identity, request: ListOrdersRequest): Promise<ListOrdersResponse> {
    const account = await this.options.readableAccount(identity, request.account);
    const instrumentId = await this.instrumentFilter(request.symbol);
    const statuses = [...new Set(request.statuses)].sort().map((s) => statusNames[s]!);
    const filters = { account: account.id, instrumentId, statuses, side: request.side, start: micros(request.startTime), end: micros(request.endTime) };
    const { pageSize, cursor } = this.page(this.orderTokens, request.pageSize, request.pageToken, filters);
    const { rows } = await this.options.pool.query<OrderRow & { created_us: string }>(
      `SELECT ${ORDER_COLUMNS}, (extract(epoch FROM o.created_at) * 1000000)::bigint AS created_us
         FROM orders o
        WHERE o.account_id = $1
          AND ($2::int IS NULL OR o.instrument_id = $2)
          AND (cardinality($3::text[]) = 0 OR o.status = ANY($3))
          AND ($4::text IS NULL OR o.side = $4)
          AND ($5::bigint IS NULL OR o.created_at >= ${at(5)})
          AND ($6::bigint IS NULL OR o.created_at < ${at(6)})
          AND ($7::bigint IS NULL OR (o.created_at, o.order_id) < (${at(7)}, $8::bigint))
        ORDER BY o.created_at DESC, o.order_id DESC
        LIMIT $9`,
      [
        account.id.toString(),
        instrumentId ?? null,
        statuses,
        request.side === Side.SIDE_UNSPECIFIED ? null : request.side === Side.SIDE_BUY ? "buy" : "sell",
        filters.start?.toString() ?? null,
        filters.end?.toString() ?? null,
        cursor?.time.toString() ?? null,
        cursor?.id.toString() ?? null,
        pageSize + 1,
      ],
    );
    const page = rows.slice(0, pageSize);
    const names = await namesOf(this.options.catalog, page);
    const last = page[page.length - 1];
    return {
      orders: page.map((row) => orderMessage(row, names)),
      nextPageToken: rows.length > pageSize && last ? this.orderTokens.encode({ time: BigInt(last.created_us), id: BigInt(last.order_id) }, filters) : "",
    };
  }

  async listExecutions(identity: Identity, request: ListExecutionsRequest): Promise<ListExecutionsResponse> {
    const account = await this.options.readableAccount(identity, request.account);
    const instrumentId = await this.instrumentFilter(request.symbol);
    const filters = { account: account.id, instrumentId, orderId: request.orderId, start: micros(request.startTime), end: micros(request.endTime) };
    const { pageSize, cursor } = this.page(this.executionTokens, request.pageSize, request.pageToken, filters);
    // part: a self-trade gives the account both sides of one trade; taker (1) sorts before maker (0).
    const { rows } = await this.options.pool.query<ExecutionRow & { executed_us: string; part: number; client_order_id: string }>(
      `SELECT e.*, o.client_order_id, (extract(epoch FROM e.executed_at) * 1000000)::bigint AS executed_us,
              CASE e.liquidity WHEN 'taker' THEN 1 ELSE 0 END AS part
         FROM executions e JOIN orders o ON o.order_id = e.order_id
        WHERE e.account_id = $1
          AND ($2::int IS NULL OR e.instrument_id = $2)
          AND ($3::bigint IS NULL OR e.order_id = $3)
          AND ($4::bigint IS NULL OR e.executed_at >= ${at(4)})
          AND ($5::bigint IS NULL OR e.executed_at < ${at(5)})
          AND ($6::bigint IS NULL OR (e.executed_at, e.trade_id, CASE e.liquidity WHEN 'taker' THEN 1 ELSE 0 END) < (${at(6)}, $7::bigint, $8::int))
        ORDER BY e.executed_at DESC, e.trade_id DESC, part DESC
        LIMIT $9`,
      [
        account.id.toString(),
        instrumentId ?? null,
        request.orderId === "" ? null : request.orderId,
        filters.start?.toString() ?? null,
        filters.end?.toString() ?? null,
        cursor?.time.toString() ?? null,
        cursor?.id.toString() ?? null,
        cursor?.part ?? null,
        pageSize + 1,
      ],
    );
    const page = rows.slice(0, pageSize);
    const names = await namesOf(this.options.catalog, page);
    const last = page[page.length - 1];
    return {
      executions: page.map((row) => executionMessage(row, row.client_order_id, names)),
      nextPageToken:
        rows.length > pageSize && last ? this.executionTokens.encode({ time: BigInt(last.executed_us), id: BigInt(last.trade_id), part: last.part }, filters) : "",
    };
  }

  /**
   * The account's positions by instrument id: from the Redis cache while it can be trusted (see
   * projection/redis-cache.ts), else from PostgreSQL. Both give the same messages in the same order.
   */
  async getPositions(identity: Identity, request: GetPositionsRequest): Promise<Position[]> {
    const account = await this.options.readableAccount(identity, request.account);
    const instrumentId = await this.instrumentFilter(request.symbol);
    const symbols = new Map<number, string>();
    const names: Names = { account: () => account.name, symbol: (id) => symbols.get(id) ?? String(id) };
    const withNames = async (ids: readonly number[]) => {
      for (const id of ids) if (!symbols.has(id)) symbols.set(id, (await this.options.catalog.instrumentById(id))?.symbol ?? String(id));
    };

    const cached = await this.cachedPositions(account.id, instrumentId);
    if (cached) {
      await withNames(cached.map((c) => c.instrumentId));
      // Names as the PostgreSQL path gives them, not as they were when the cache was written.
      return cached.map(({ instrumentId: id, position }) => ({ ...position, account: account.name, symbol: names.symbol(id) }));
    }
    const { rows } = await this.options.pool.query<PositionRow>(
      `SELECT ${POSITION_COLUMNS}
         FROM positions p WHERE p.account_id = $1 AND ($2::int IS NULL OR p.instrument_id = $2)
        ORDER BY p.instrument_id`,
      [account.id.toString(), instrumentId ?? null],
    );
    await withNames(rows.map((row) => row.instrument_id));
    return rows.map((row) => positionMessage(row, names));
  }

  /** The cached positions, or undefined when Redis is not configured, not connected, failing or not trusted. */
  private async cachedPositions(accountId: bigint, instrumentId: number | undefined): Promise<CachedPosition[] | undefined> {
    const { redis, metrics } = this.options;
    // A disconnected client would queue the command until it reconnects: PostgreSQL answers now.
    if (!redis || redis.client.status !== "ready") return undefined;
    const read = () => cachedPositions(redis.client, redis.keyPrefix, accountId, instrumentId);
    return (metrics ? metrics.time("redis", "get_positions", read) : read()).catch(() => undefined); // Redis is a cache: PostgreSQL answers.
  }

  private async instrumentFilter(symbol: string): Promise<number | undefined> {
    if (symbol === "") return undefined;
    const instrument = await this.options.catalog.instrument(symbol);
    if (!instrument) throw new OrderError(grpc.status.NOT_FOUND, "UNKNOWN_SYMBOL", `symbol ${symbol} is not listed`);
    return instrument.id;
  }

  private page(codec: PageTokenCodec, size: number, token: string, filters: Record<string, unknown>): { pageSize: number; cursor: Required<PageCursor> | undefined } {
    try {
      return { pageSize: normalizePageSize(size), cursor: codec.decode(token, filters) };
    } catch (error) {
      if (error instanceof PaginationError) throw new OrderError(grpc.status.INVALID_ARGUMENT, error.code, error.message);
      throw error;
    }
  }
}
