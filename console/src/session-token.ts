// The token a person signs in with, checked for what the browser can tell before asking the
// platform: that it is a JWT at all, and that it has not expired. The platform checks the rest.

/** The tab's token: kept for reloads of this tab, gone when the tab closes. */
const storageKey = "hft.console.token";

export function savedToken(storage: Pick<Storage, "getItem"> = sessionStorage): string | undefined {
  return storage.getItem(storageKey) ?? undefined;
}

export function saveToken(token: string | undefined, storage: Pick<Storage, "setItem" | "removeItem"> = sessionStorage): void {
  if (token === undefined) storage.removeItem(storageKey);
  else storage.setItem(storageKey, token);
}

/** Why `token` cannot be used, or undefined when it looks usable at `now`. */
export function tokenProblem(token: string, now = Date.now()): string | undefined {
  const parts = token.split(".");
  if (parts.length !== 3 || parts.some((part) => !/^[A-Za-z0-9_-]+$/.test(part))) {
    return "This is not a JWT: expected three base64url parts separated by dots (header.payload.signature)";
  }
  let claims: { exp?: unknown };
  try {
    claims = JSON.parse(atob(parts[1]!.replace(/-/g, "+").replace(/_/g, "/"))) as { exp?: unknown };
  } catch {
    return "The token's payload is not JSON";
  }
  if (typeof claims.exp === "number" && claims.exp * 1000 <= now) {
    return `This token expired at ${new Date(claims.exp * 1000).toLocaleString()}`;
  }
  return undefined;
}
