import { describe, expect, it } from "vitest";
import type { Identity } from "@hft/service-kit";
import { ALL_ACCOUNTS, AnalyticsError, readableScope } from "./account-access.js";

const ids: Record<string, string> = { alice: "1", bob: "2" };
const names = { accountId: async (name: string) => ids[name] };
const inAnHour = Date.now() + 3_600_000;
const alice: Identity = { account: "alice", role: "trader", expiresAtMs: inAnHour };
const admin: Identity = { account: "root", role: "admin", expiresAtMs: inAnHour };

async function refusal(identity: Identity, requested: string): Promise<AnalyticsError> {
  const error = await readableScope(identity, requested, names).then(() => undefined, (caught: unknown) => caught);
  expect(error).toBeInstanceOf(AnalyticsError);
  return error as AnalyticsError;
}

describe("readableScope", () => {
  it("reads the caller's own account when none is named, or when it names itself", async () => {
    expect(await readableScope(alice, "", names)).toEqual({ account: "alice", scope: { accountId: "1" } });
    expect(await readableScope(alice, "alice", names)).toEqual({ account: "alice", scope: { accountId: "1" } });
  });

  it("refuses a trader or viewer another account or all of them", async () => {
    const other = await refusal(alice, "bob");
    expect(other.code).toBe("NOT_ACCOUNT_OWNER");
    expect(other.message).toBe("alice (role trader) may not read the figures of account bob; only admins read other accounts");
    expect((await refusal({ ...alice, role: "viewer" }, ALL_ACCOUNTS)).message).toBe("alice (role viewer) may not read every account's figures; only admins read other accounts");
  });

  it("lets an admin read any account or all together", async () => {
    expect(await readableScope(admin, "bob", names)).toEqual({ account: "bob", scope: { accountId: "2" } });
    expect(await readableScope(admin, "*", names)).toEqual({ account: "*", scope: "all" });
  });

  it("names an account that does not exist", async () => {
    const error = await refusal(admin, "carol");
    expect(error.code).toBe("UNKNOWN_ACCOUNT");
    expect(error.message).toBe("account carol does not exist");
  });
});
