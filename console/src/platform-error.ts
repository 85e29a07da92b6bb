// What the console tells a person when a call fails: what happened and what to do, from the
// gateway's status code, its stable reason (the hft-reason header) and its message.
import { Code, ConnectError } from "@connectrpc/connect";

export interface ProblemReport {
  /** Short heading: "Rate limited", "Rejected", ... */
  readonly title: string;
  /** The platform's own words, plus what to do when that is not obvious. */
  readonly detail: string;
  /** The stable reason (for example RISK_MAX_NOTIONAL), when the platform gave one. */
  readonly reason?: string;
}

export function describeProblem(error: unknown): ProblemReport {
  if (!(error instanceof ConnectError)) {
    return { title: "Something went wrong", detail: error instanceof Error ? error.message : String(error) };
  }
  const reason = error.metadata.get("hft-reason") ?? undefined;
  const detail = error.rawMessage;
  const withReason = (title: string, text = detail): ProblemReport => (reason ? { title, detail: text, reason } : { title, detail: text });
  switch (error.code) {
    case Code.ResourceExhausted: {
      const retryAfter = error.metadata.get("retry-after");
      return withReason("Rate limited", retryAfter ? `Too many requests: try again in ${retryAfter} s. (${detail})` : detail);
    }
    case Code.Unauthenticated:
      return withReason("Signed out", `${detail}. Sign in again with a valid token.`);
    case Code.PermissionDenied:
      return withReason("Not allowed");
    case Code.Unavailable:
      return withReason("Platform unavailable", `${detail}. Try again in a moment.`);
    case Code.DeadlineExceeded:
      return withReason("No answer in time", `${detail}. Check the blotter before sending again.`);
    case Code.InvalidArgument:
    case Code.OutOfRange:
    case Code.FailedPrecondition:
    case Code.Aborted:
    case Code.AlreadyExists:
      return withReason("Refused");
    case Code.NotFound:
      return withReason("Not found");
    default:
      return withReason("Platform error");
  }
}
