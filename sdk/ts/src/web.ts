// `@hft/sdk/web`: the platform's clients in the browser, over Connect with fetch.
export { createWebClients } from "./private/web-clients.js";
export * from "./index.js";
