/**
 * The contract's protovalidate rules, checked at the gateway where an answer's status would
 * otherwise be lost: a server stream over REST or /ws has sent its 200 (or its "subscribed")
 * before the backend refuses the request. Unary calls are left to the backends, which check the
 * same rules themselves.
 */
import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { createValidator } from "@bufbuild/protovalidate";

const validator = createValidator();

/** The violations of `message` as one line ("field: problem; ..."), or undefined when it is valid. */
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
