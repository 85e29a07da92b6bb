/**
 * The market maker's configuration: each setting from its flag, else its environment variable,
 * else its default, validated once at start. Unknown flags and bad values stop it with a message
 * naming the setting.
 */
import { parseArgs } from "node:util";
import { z } from "zod";

export class ConfigError extends Error {}

const decimal = z.string().regex(/^[0-9]{1,20}(\.[0-9]{1,18})?$/, { error: "expected a decimal number such as 0.01" });
const positiveDecimal = decimal.refine((text) => /[1-9]/.test(text), { error: "expected a decimal number above 0" });
const count = (min: number, max: number) => z.coerce.number({ error: "expected a whole number" }).int({ error: "expected a whole number" }).min(min, { error: `expected at least ${min}` }).max(max, { error: `expected at most ${max}` });

/** Setting → [flag, environment variable, schema]; the schema's default is the default. */
const settings = {
  target: ["target", "HFT_TARGET", z.url({ protocol: /^https?$/, error: "expected an http(s) URL" }).default("http://127.0.0.1:8080")], // the gateway of `make up`
  protocol: ["protocol", "HFT_PROTOCOL", z.enum(["connect", "grpc"], { error: "expected connect or grpc" }).default("connect")],
  token: ["token", "HFT_TOKEN", z.string({ error: "expected a token (npm run dev-token -- <account> trader)" }).min(1, { error: "expected a token" })],
  symbol: ["symbol", "HFT_MM_SYMBOL", z.string().regex(/^[A-Z0-9][A-Z0-9._-]{0,15}$/, { error: "expected a symbol such as BTC-USD" }).default("BTC-USD")],
  spreadTicks: ["spread-ticks", "HFT_MM_SPREAD_TICKS", count(2, 1_000_000).default(10)], // bid to ask, in ticks
  quoteSize: ["quote-size", "HFT_MM_QUOTE_SIZE", positiveDecimal.default("0.01")], // each quote, in the instrument's quantity
  maxPosition: ["max-position", "HFT_MM_MAX_POSITION", positiveDecimal.default("0.1")], // absolute net position, in quantity
  requoteTicks: ["requote-ticks", "HFT_MM_REQUOTE_TICKS", count(1, 1_000_000).default(2)], // a quote this far from its target moves
  maxActionsPerSecond: ["max-actions-per-second", "HFT_MM_MAX_ACTIONS_PER_SECOND", count(1, 100_000).default(20)], // places and cancels
  referencePrice: ["reference-price", "HFT_MM_REFERENCE_PRICE", positiveDecimal.optional()], // quoted around while the book is empty
  idPrefix: ["id-prefix", "HFT_MM_ID_PREFIX", z.string().regex(/^[A-Za-z0-9]{1,12}$/, { error: "expected 1 to 12 letters or digits" }).default("mm")],
} as const;

type Settings = typeof settings;
export type MarketMakerConfig = { [K in keyof Settings]: z.output<Settings[K][2]> };

/** The configuration from `argv` (without node and the script) and `env`; throws ConfigError naming the bad setting. */
export function loadMarketMakerConfig(argv: readonly string[], env: NodeJS.ProcessEnv): MarketMakerConfig {
  let flags: Record<string, string | undefined>;
  try {
    const options = Object.fromEntries(Object.values(settings).map(([flag]) => [flag, { type: "string" as const }]));
    flags = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values as Record<string, string | undefined>;
  } catch (error) {
    throw new ConfigError(error instanceof Error ? error.message : String(error));
  }
  const config: Record<string, unknown> = {};
  for (const [key, [flag, variable, schema]] of Object.entries(settings)) {
    const raw = flags[flag] ?? env[variable];
    const parsed = (schema as z.ZodType).safeParse(raw === "" ? undefined : raw);
    if (!parsed.success) {
      const shown = raw === undefined ? "nothing" : key === "token" ? "a value" : `"${raw}"`;
      throw new ConfigError(`--${flag} (or ${variable}): ${parsed.error.issues[0]?.message ?? "invalid"}, got ${shown}`);
    }
    config[key] = parsed.data;
  }
  return config as MarketMakerConfig;
}
