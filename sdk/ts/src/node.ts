// `@hft/sdk/node`: the platform's clients in Node.js, over Connect (HTTP/2 by default) or gRPC.
export { type NodeClientOptions, createNodeClients } from "./private/node-clients.js";
export * from "./index.js";
