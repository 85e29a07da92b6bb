/**
 * UTF-8 for protobuf encoding, faster for the short ASCII strings our messages are made of (ids,
 * symbols, decimals). Both protobuf libraries (ts-proto's generated code and protobuf-es) encode
 * every string field through the text encoding of @bufbuild/protobuf, by default
 * `TextEncoder.encode`, which costs a call into C++ and a new ArrayBuffer per string: in the order
 * service's CPU profile it was the largest single item (~7% of the CPU while streaming orders).
 */
import { configureTextEncoding, getTextEncoding } from "@bufbuild/protobuf/wire";

/** Longer strings go to TextEncoder, which is faster once the string is long. */
const ASCII_LOOP_MAX = 64;
const EMPTY = new Uint8Array(0);

/**
 * The UTF-8 bytes of `text`: a plain loop for short ASCII text, `fallback` for anything else;
 * byte for byte what TextEncoder gives.
 */
export function encodeUtf8With(fallback: (text: string) => Uint8Array<ArrayBuffer>): (text: string) => Uint8Array<ArrayBuffer> {
  return function encodeUtf8(text) {
    const length = text.length;
    if (length === 0) return EMPTY;
    if (length > ASCII_LOOP_MAX) return fallback(text);
    const bytes = new Uint8Array(length);
    for (let i = 0; i < length; i++) {
      const code = text.charCodeAt(i);
      if (code > 0x7f) return fallback(text);
      bytes[i] = code;
    }
    return bytes;
  };
}

/**
 * Makes every protobuf encoder of the process use {@link encodeUtf8With}'s fast path; decoding
 * is unchanged. Call once, first thing in a service's entry point (writers made before keep the
 * default).
 */
export function useFastProtobufText(): void {
  const standard = getTextEncoding();
  configureTextEncoding({
    encodeUtf8: encodeUtf8With((text) => standard.encodeUtf8(text)),
    decodeUtf8: (bytes, strict) => standard.decodeUtf8(bytes, strict),
    checkUtf8: (text) => standard.checkUtf8(text),
  });
}
