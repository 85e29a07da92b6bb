import { describe, expect, it } from "vitest";
import { encodeUtf8With } from "./protobuf-text.js";

const textEncoder = new TextEncoder();
const encodeUtf8 = encodeUtf8With((text) => textEncoder.encode(text));

describe("encodeUtf8With", () => {
  it.each([
    ["an empty string", ""],
    ["ASCII", "bench-3:order_17.A"],
    ["a decimal", "100.000000000000000001"],
    ["Latin-1 beyond ASCII", "crème brûlée"],
    ["a character outside the BMP", "order 🚀"],
    ["a lone surrogate", "x\ud800y"],
    ["ASCII longer than the loop takes", "a".repeat(1_000)],
  ])("gives TextEncoder's bytes for %s", (_, text) => {
    expect(Array.from(encodeUtf8(text))).toEqual(Array.from(textEncoder.encode(text)));
  });

  it("hands anything but short ASCII to the fallback", () => {
    const seen: string[] = [];
    const encode = encodeUtf8With((text) => (seen.push(text), textEncoder.encode(text)));
    encode("AAPL");
    encode("é");
    encode("b".repeat(65));
    expect(seen).toEqual(["é", "b".repeat(65)]);
  });
});
