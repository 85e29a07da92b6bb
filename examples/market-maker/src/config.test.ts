import { describe, expect, it } from "vitest";
import { loadMarketMakerConfig } from "./config.js";

describe("loadMarketMakerConfig", () => {
  it("takes flags over environment variables over defaults", () => {
    const config = loadMarketMakerConfig(["--token", "t", "--spread-ticks", "6"], { HFT_MM_SPREAD_TICKS: "8", HFT_MM_QUOTE_SIZE: "0.5" });
    expect(config).toEqual({
      target: "http://127.0.0.1:8080",
      protocol: "connect",
      token: "t",
      symbol: "BTC-USD",
      spreadTicks: 6,
      quoteSize: "0.5",
      maxPosition: "0.1",
      requoteTicks: 2,
      maxActionsPerSecond: 20,
      idPrefix: "mm",
    });
  });
  it("names the setting and the value it refuses", () => {
    expect(() => loadMarketMakerConfig(["--token", "t", "--spread-ticks", "1"], {})).toThrow('--spread-ticks (or HFT_MM_SPREAD_TICKS): expected at least 2, got "1"');
    expect(() => loadMarketMakerConfig(["--token", "t", "--quote-size", "0"], {})).toThrow('--quote-size (or HFT_MM_QUOTE_SIZE): expected a decimal number above 0, got "0"');
    expect(() => loadMarketMakerConfig(["--token", "t", "--target", "ftp://x"], {})).toThrow("--target (or HFT_TARGET): expected an http(s) URL");
  });
  it("requires a token without echoing one", () => {
    expect(() => loadMarketMakerConfig([], {})).toThrow("--token (or HFT_TOKEN): expected a token (npm run dev-token -- <account> trader), got nothing");
  });
  it("refuses an unknown flag", () => {
    expect(() => loadMarketMakerConfig(["--token", "t", "--sprea", "3"], {})).toThrow("Unknown option '--sprea'");
  });
});
