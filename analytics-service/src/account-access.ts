/**
 * Whose figures a caller may read: its own account always (every role); another account, or
 * every account together (`ALL_ACCOUNTS`, "*"), only as an admin. The account comes from the
 * verified token, never from the request alone.
 */
import type { Identity } from "@hft/service-kit";
import type { FigureScope } from "./figure-reads.js";
import type { Names } from "./names.js";

/** The `account` value that asks for every account's figures summed (admins only). */
export const ALL_ACCOUNTS = "*";

export type AnalyticsErrorCode = "NOT_ACCOUNT_OWNER" | "UNKNOWN_ACCOUNT" | "UNKNOWN_SYMBOL" | "INVALID_REQUEST";

/** A refused request; the message names what is wrong and is safe to return. */
export class AnalyticsError extends Error {
  override readonly name = "AnalyticsError";
  constructor(
    readonly code: AnalyticsErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface ResolvedScope {
  /** The account name as answered (`account` of GetAnalyticsResponse), "*" for all. */
  readonly account: string;
  readonly scope: FigureScope;
}

/** Resolves `requested` ("" for the caller's own) for `identity`; throws {@link AnalyticsError}. */
export async function readableScope(identity: Identity, requested: string, names: Pick<Names, "accountId">): Promise<ResolvedScope> {
  const name = requested === "" ? identity.account : requested;
  if (name !== identity.account && identity.role !== "admin") {
    const what = name === ALL_ACCOUNTS ? "every account's figures" : `the figures of account ${name}`;
    throw new AnalyticsError("NOT_ACCOUNT_OWNER", `${identity.account} (role ${identity.role}) may not read ${what}; only admins read other accounts`);
  }
  if (name === ALL_ACCOUNTS) return { account: ALL_ACCOUNTS, scope: "all" };
  const accountId = await names.accountId(name);
  if (accountId === undefined) throw new AnalyticsError("UNKNOWN_ACCOUNT", `account ${name} does not exist`);
  return { account: name, scope: { accountId } };
}
