/**
 * The web console end to end: the bootstrap's build served by a gateway in front of the real
 * platform, driven in Debian's Chromium by two traders. Tokens refused on the page and by the
 * platform; the ticket's own checks; a resting order on the book, a fill seen by both sides,
 * positions and the analytics figures; a cancel from the blotter; a gateway restart the page
 * reports and recovers from; token expiry and rate limits told; and axe-core's WCAG 2.1 AA rules
 * on every page. Each test leaves screenshots in .run/test-results/console/.
 */
import { existsSync, readFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { type Browser, type Page, chromium } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../tests/support/engine-process.js";
import { type Platform, startPlatform } from "../../gateway/tests/platform.js";

const dist = fileURLToPath(new URL("../dist", import.meta.url));
const screenshots = fileURLToPath(new URL("../../.run/test-results/console", import.meta.url));
const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const waitMs = 20_000;
const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

let platform: Platform;
let browser: Browser;
let gateway: Awaited<ReturnType<Platform["startGateway"]>>;
let listen: string;
const pages: { name: string; page: Page }[] = [];

const startGateway = async (overrides: Record<string, string> = {}) => (gateway = await platform.startGateway({ GATEWAY_LISTEN: listen, GATEWAY_CONSOLE_DIR: dist, ...overrides }));

beforeAll(async () => {
  if (!existsSync(`${dist}/index.html`)) throw new Error(`no console build in ${dist}: run npm run build -w @hft/console (the bootstrap does)`);
  if (!existsSync(chromiumPath)) throw new Error(`no Chromium at ${chromiumPath}: scripts/install-system-deps.sh installs Debian's chromium`);
  await mkdir(screenshots, { recursive: true });
  platform = await startPlatform();
  listen = `127.0.0.1:${await freePort()}`;
  await startGateway();
  // As root (CI) Chromium's sandbox cannot start; a container's small /dev/shm crashes its renderer.
  browser = await chromium.launch({ executablePath: chromiumPath, args: ["--no-sandbox", "--disable-dev-shm-usage"] });
});
afterEach(async (context) => {
  const test = context.task.name.replace(/[^a-z0-9]+/gi, "-").toLowerCase();
  for (const { name, page } of pages) await page.screenshot({ path: `${screenshots}/${test}-${name}.png`, fullPage: true }).catch(() => undefined);
});
afterAll(async () => {
  await browser?.close();
  await platform?.stop();
});

/** A fresh browser profile on the console. */
async function openConsole(name: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  const page = await context.newPage();
  page.setDefaultTimeout(waitMs);
  pages.push({ name, page });
  await page.goto(gateway.url);
  return page;
}

async function signIn(page: Page, token: string): Promise<void> {
  await page.locator("#token").fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
}

async function signedIn(name: string, account: string): Promise<Page> {
  const page = await openConsole(name);
  await signIn(page, await platform.token(account, "trader"));
  await page.getByText(`Live — ${account} (trader)`).waitFor();
  await page.locator("#order-symbol").selectOption("BTC-USD");
  await page.getByRole("heading", { name: "BTC-USD book" }).waitFor();
  return page;
}

async function placeLimit(page: Page, side: "Buy" | "Sell", quantity: string, price: string): Promise<string> {
  await page.getByRole("radio", { name: side }).check();
  await page.locator("#order-price").fill(price);
  await page.locator("#order-quantity").fill(quantity);
  const answer = page.locator(".order-form .answer");
  const before = await answer.textContent();
  await page.getByRole("button", { name: `${side} BTC-USD` }).click();
  // The platform's answer: an order, or the problem that stopped it.
  await expect.poll(async () => ((await answer.textContent()) || before) !== before, { timeout: waitMs }).toBe(true);
  return (await answer.textContent()) ?? "";
}

const orderIdOf = (answer: string) => /order (\d+)/.exec(answer)![1]!;
const blotterRow = (page: Page, orderId: string) => page.locator(`.blotter tr[data-order-id="${orderId}"]`);
const bookLevel = (page: Page, side: "Bid" | "Ask", quantity: string, price: string) => page.locator(`.book tr[aria-label="${side} ${quantity} at ${price}"]`);
/**
 * What axe-core finds on the page as it stands against WCAG 2.1 A and AA: each rule broken, with
 * the elements. Evaluated over the DevTools protocol, which the page's CSP does not govern.
 */
async function accessibilityViolations(page: Page): Promise<string[]> {
  const found = await page.evaluate(`${axeSource}; axe.run(document, { runOnly: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] }).then((r) => r.violations.map((v) => v.id + ": " + v.nodes.map((n) => n.target.join(" ")).join(", ")))`);
  return found as string[];
}

/** The figure's value on the analytics page, by its label. */
const figure = (page: Page, label: string) => page.locator(".figure", { has: page.locator("dt", { hasText: label }) }).locator("dd").first();

describe("the web console in a browser", () => {
  let alice: Page;
  let bob: Page;

  it("refuses a token that is not a JWT, an expired one and one the platform did not sign, saying why", async () => {
    const page = await openConsole("sign-in");
    const error = page.locator("#token-error");
    await signIn(page, "not-a-token");
    await expect.poll(() => error.textContent(), { timeout: waitMs }).toMatch(/JWT/);
    await signIn(page, await platform.token(platform.accounts.alice, "trader", { ttlSeconds: -60 }));
    await expect.poll(() => error.textContent(), { timeout: waitMs }).toMatch(/expired/);
    await signIn(page, await platform.token(platform.accounts.alice, "trader", { secret: "a-secret-the-platform-does-not-know-0123456789" }));
    await expect.poll(() => error.textContent(), { timeout: waitMs }).toMatch(/signature does not verify/);
    expect(await page.locator("#token").isVisible()).toBe(true);
  });

  it("signs the person out when the token expires, and says so", async () => {
    const page = await openConsole("expiry");
    await signIn(page, await platform.token(platform.accounts.alice, "trader", { ttlSeconds: 6 }));
    await page.getByText(/^Live — .*, signed in until \d\d:\d\d:\d\d$/).waitFor();
    await expect.poll(() => page.locator("#token-error").textContent(), { timeout: waitMs }).toBe("Signed out: token expired. Sign in again.");
  });

  it("checks the ticket before sending: an off-tick price is named and nothing is sent", async () => {
    alice = await signedIn("alice", platform.accounts.alice);
    await alice.locator("#order-price").fill("25000.005");
    await alice.locator("#order-quantity").fill("0.5");
    await alice.getByRole("button", { name: "Buy BTC-USD" }).click();
    await expect.poll(() => alice.locator("#order-price-error").textContent(), { timeout: waitMs }).toMatch(/0\.01/);
    expect(await alice.locator(".blotter tr[data-order-id]").count()).toBe(0);
  });

  it("shows a resting order on both traders' books, the fill to both, and the positions", async () => {
    bob = await signedIn("bob", platform.accounts.bob);
    const resting = await placeLimit(alice, "Sell", "0.5", "25000.00");
    expect(resting).toMatch(/^New: order \d+ for 0\.5/);
    const sellId = orderIdOf(resting);
    await blotterRow(alice, sellId).getByText("New").waitFor();
    await bookLevel(bob, "Ask", "0.5", "25000").waitFor();

    expect(await placeLimit(bob, "Buy", "0.5", "25100.00")).toMatch(/^Filled: order \d+ filled 0\.5 of 0\.5 at 25000/);
    await blotterRow(alice, sellId).getByText("Filled").waitFor();
    await alice.locator(".book .empty", { hasText: "The book is empty." }).waitFor();
    await alice.locator(".book").getByRole("cell", { name: "Buy" }).waitFor(); // the trade, bob the aggressor
    await alice.locator(".positions").getByRole("row", { name: /BTC-USD -0\.5/ }).waitFor();
    await bob.locator(".positions").getByRole("row", { name: /BTC-USD 0\.5/ }).waitFor();

    // Bob offers it back lower; alice's bid rests first, then she lifts his offer.
    const bid = orderIdOf(await placeLimit(alice, "Buy", "0.1", "24000.00"));
    await bookLevel(bob, "Bid", "0.1", "24000").waitFor();
    await placeLimit(bob, "Sell", "0.5", "24900.00");
    await bookLevel(alice, "Ask", "0.5", "24900").waitFor();
    expect(await placeLimit(alice, "Buy", "0.5", "24900.00")).toMatch(/^Filled: order \d+ filled 0\.5 of 0\.5 at 24900/);
    await alice.locator(".positions").getByRole("row", { name: /BTC-USD 0 .* 50/ }).waitFor();

    await alice.getByRole("button", { name: `Cancel order ${bid}` }).click();
    await blotterRow(alice, bid).getByText("Cancelled").waitFor();
    await alice.locator(".book .empty", { hasText: "The book is empty." }).waitFor();
  });

  it("passes axe-core's WCAG 2.1 AA rules on the sign-in and trade pages", async () => {
    const signInPage = pages.find((p) => p.name === "sign-in")!.page;
    expect(await accessibilityViolations(signInPage)).toEqual([]);
    expect(await accessibilityViolations(alice)).toEqual([]);
  });

  it("shows alice's analytics: two fills, 50 realized, every round trip won, and passes axe-core's rules", async () => {
    await alice.getByRole("link", { name: "Analytics" }).click();
    // The analytics service sees the fills through Kafka: refresh until it has both.
    await expect
      .poll(
        async () => {
          await alice.getByRole("button", { name: /Refresh/ }).click();
          return figure(alice, "Fills").textContent({ timeout: 2_000 }).catch(() => "");
        },
        { timeout: 60_000, interval: 1_000 },
      )
      .toBe("2");
    expect(await figure(alice, "Realized P&L").textContent()).toMatch(/^50(\.0+)?$/);
    expect(await figure(alice, "Win rate").textContent()).toBe("100.0%");
    expect(await alice.locator(".analytics svg").count()).toBeGreaterThan(0);
    expect(await accessibilityViolations(alice)).toEqual([]);
  }, 90_000);

  it("says the connection dropped while the gateway restarts, then is live again with the orders caught up", async () => {
    await alice.getByRole("link", { name: "Trade" }).click();
    await gateway.close();
    await alice.getByText(/^Disconnected: .*Reconnecting in \d+ s/).waitFor();
    await startGateway();
    await alice.getByText(`Live — ${platform.accounts.alice} (trader)`).waitFor({ timeout: 30_000 });
    const resting = orderIdOf(await placeLimit(alice, "Sell", "0.2", "26000.00"));
    await bookLevel(bob, "Ask", "0.2", "26000").waitFor({ timeout: 30_000 });
    await blotterRow(alice, resting).getByText("New").waitFor();
  });

  it("shows a returning trader the orders and position already there, with nothing new on the stream", async () => {
    await bob.reload();
    await bob.getByText(`Live — ${platform.accounts.bob} (trader)`).waitFor();
    await expect.poll(() => bob.locator(".blotter tr[data-order-id]").count(), { timeout: waitMs }).toBe(2);
    await bob.locator(".positions").getByRole("row", { name: /BTC-USD 0 .* -50/ }).waitFor();
  });

  it("says when the account is rate limited and when it may send again", async () => {
    await gateway.close();
    await startGateway({ GATEWAY_RATE_LIMIT: "8", GATEWAY_RATE_LIMIT_WINDOW_MS: "60000" });
    await alice.getByText(`Live — ${platform.accounts.alice} (trader)`).waitFor({ timeout: 30_000 });
    let answer = "";
    for (let sent = 0; sent < 10 && !answer.startsWith("Rate limited"); sent++) answer = await placeLimit(alice, "Sell", "0.01", `${27000 + sent}.00`);
    expect(answer).toMatch(/^Rate limited: Too many requests: try again in \d+ s\./);
  });
});
