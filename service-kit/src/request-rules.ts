/**
 * The contract's protovalidate rules (`buf.validate` options in proto/), as one line naming each
 * field and rule that failed ("days: value must be less than or equal to 366; ..."), for an
 * INVALID_ARGUMENT message.
 */
import { type DescMessage, type MessageShape, ScalarType, fromBinary } from "@bufbuild/protobuf";
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import { createValidator } from "@bufbuild/protovalidate";

/**
 * The regular-expression subset whose meaning RE2 and JavaScript's RegExp (with the u flag) share:
 * anchors, literal characters, escaped punctuation, \d and \w, character classes, plain groups,
 * alternation and repetition. Left out: backreferences, lookaround, inline flags and \s (which
 * RegExp stretches to Unicode spaces). Such patterns cannot backtrack badly either. Every `pattern`
 * rule of the contract is in it (request-rules.test.ts holds proto/ to that).
 */
export const PORTABLE_PATTERN = /^\^?(?:\[\^?(?:\\[-\\\][^.dDwW]|[^\]\\[])+\]|\\[.+*?()[\]{}^$|\\/dDwW]|[A-Za-z0-9_:,/ -]|\((?!\?)|\)|[?*+.]|\{\d+(?:,\d*)?\}|\|)*\$?$/;

const compiled = new Map<string, RegExp>();

/**
 * Matches the contract's patterns with the platform's RegExp, not protovalidate's default RE2
 * port, which took a quarter of the time of validating a PlaceOrderRequest. A pattern outside
 * {@link PORTABLE_PATTERN} is refused rather than matched with different rules.
 */
function portableRegexMatch(pattern: string, against: string): boolean {
  let regex = compiled.get(pattern);
  if (!regex) {
    if (!PORTABLE_PATTERN.test(pattern)) throw new Error(`pattern ${pattern} is outside the subset RE2 and RegExp read alike`);
    compiled.set(pattern, (regex = new RegExp(pattern, "u")));
  }
  return regex.test(against);
}

const validator = createValidator({ regexMatch: portableRegexMatch });

/** The violations of a protobuf-es `message`, or undefined when it is valid. */
export function violationsOf<Desc extends DescMessage>(schema: Desc, message: MessageShape<Desc>): string | undefined {
  const result = validator.validate(schema, message);
  if (result.kind === "valid") return undefined;
  if (result.kind === "error") return result.error.message;
  return result.violations
    .map((v) => {
      const field = v.field.map((f) => ("name" in f ? f.name : "")).filter(Boolean).join(".");
      return field ? `${field}: ${v.message}` : v.message;
    })
    .join("; ");
}

/**
 * The violations of a request that arrived as a ts-proto object, given its bytes: they are read
 * as the protobuf-es message the validator understands, so the rules in the .proto files are the
 * ones enforced.
 */
export function violationsOfBytes(schema: DescMessage, encoded: Uint8Array): string | undefined {
  let message;
  try {
    message = fromBinary(schema, encoded);
  } catch (error) {
    const field = fieldNotUtf8(schema, encoded);
    return field ? `${field}: not valid UTF-8` : `the request is not a well-formed ${schema.typeName}: ${(error as Error).message}`;
  }
  return violationsOf(schema, message);
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * The dotted path of the first string field whose bytes are not UTF-8, or undefined: the decoder
 * refuses such bytes without saying where they are. Bytes that do not parse end the search.
 */
function fieldNotUtf8(schema: DescMessage, encoded: Uint8Array, depth = 0): string | undefined {
  const reader = new BinaryReader(encoded);
  try {
    while (reader.pos < reader.len) {
      const [number, wireType] = reader.tag();
      const field = schema.fields.find((f) => f.number === number);
      if (wireType !== WireType.LengthDelimited || !field) {
        reader.skip(wireType, number);
        continue;
      }
      const bytes = reader.bytes();
      const isString = (field.fieldKind === "scalar" || (field.fieldKind === "list" && field.listKind === "scalar")) && field.scalar === ScalarType.STRING;
      if (isString) {
        try {
          strictUtf8.decode(bytes);
        } catch {
          return field.name;
        }
      } else if ((field.fieldKind === "message" || (field.fieldKind === "list" && field.listKind === "message")) && depth < 32) {
        const nested = fieldNotUtf8(field.message, bytes, depth + 1);
        if (nested) return `${field.name}.${nested}`;
      }
    }
  } catch {
    return undefined;
  }
  return undefined;
}
