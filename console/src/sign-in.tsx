import { type FormEvent, useState } from "react";
import { createWebClients } from "@hft/sdk/web";
import { describeProblem } from "./platform-error.js";
import { tokenProblem } from "./session-token.js";

/** Asks for a token and signs in once the platform has accepted it. */
export function SignIn({ signedIn, notice }: { signedIn(token: string): void; notice: string | undefined }) {
  const [token, setToken] = useState("");
  const [problem, setProblem] = useState<string | undefined>(notice);
  const [checking, setChecking] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const trimmed = token.trim();
    const local = trimmed === "" ? "Paste the access token (JWT) you were given" : tokenProblem(trimmed);
    if (local) return setProblem(local);
    setChecking(true);
    try {
      // Any call the token may make proves it; the instruments are needed next anyway.
      await createWebClients({ baseUrl: window.location.origin, token: trimmed }).marketData.listInstruments({});
      signedIn(trimmed);
    } catch (error) {
      const report = describeProblem(error);
      setProblem(`${report.title}: ${report.detail}`);
    } finally {
      setChecking(false);
    }
  }

  return (
    <main className="sign-in">
      <form className="panel" onSubmit={submit} aria-labelledby="sign-in-title" noValidate>
        <h1 id="sign-in-title">Sign in</h1>
        <label htmlFor="token">Access token</label>
        <textarea id="token" rows={5} value={token} onChange={(e) => setToken(e.target.value)} spellCheck={false} autoComplete="off" aria-invalid={problem !== undefined} aria-describedby="token-hint token-error" />
        <p id="token-hint" className="hint">
          A JWT from your identity provider; locally, <code>npm run dev-token -- alice trader</code>.
        </p>
        <p id="token-error" className="field-error" role="alert">
          {problem}
        </p>
        <button type="submit" disabled={checking}>
          {checking ? "Checking…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}
