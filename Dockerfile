# syntax=docker/dockerfile:1
# The TypeScript services in one image: the order service, the analytics service, the gateway (with
# the web console it serves at /) and the migration runner. The command picks one; they run from
# their TypeScript sources exactly as scripts/services.sh runs them (node --conditions=@hft/source
# --import tsx --import @hft/otel/register <service>/src/main.ts):
#   docker build -t hft-services:dev .
#   docker run hft-services:dev order-service/src/main.ts     (default: the gateway)
# 1. the .proto files the contract imports, from Maven as scripts/generate-contract.mjs fetches them;
# 2. grpc-health-probe for the gRPC services' health checks;
# 3. every npm dependency, then the contract code generated from proto/ (npm run generate, the
#    SDKs left out);
# 4. the web console, built by Vite from its sources, the TypeScript SDK (its code generated here)
#    and service-kit's decimal-ticks.ts;
# 5. the production dependencies alone (npm ci --omit=dev);
# 6. node:20-slim with those, the sources, the generated code and the console's build, run as the
#    image's `node` user.

FROM maven:3.9.9-eclipse-temurin-17 AS proto-imports
WORKDIR /src
COPY deps/proto/pom.xml deps/proto/pom.xml
RUN mvn -B -q -f deps/proto/pom.xml package

FROM golang:1.26.8-bookworm AS health-probe
RUN CGO_ENABLED=0 GOBIN=/out go install github.com/grpc-ecosystem/grpc-health-probe@v0.4.62

# The workspaces' manifests, the only inputs of npm ci: its layers stay cached while sources change.
FROM node:20.20.2-bookworm-slim AS manifests
WORKDIR /app
COPY package.json package-lock.json ./
COPY service-kit/package.json service-kit/
COPY contract/package.json contract/
COPY otel/package.json otel/
COPY order-service/package.json order-service/
COPY analytics-service/package.json analytics-service/
COPY gateway/package.json gateway/
COPY bench/package.json bench/
COPY sdk/ts/package.json sdk/ts/
COPY examples/market-maker/package.json examples/market-maker/
COPY console/package.json console/

FROM manifests AS generate
RUN npm ci --no-audit --no-fund
COPY buf.yaml buf.gen.yaml ./
COPY proto proto
COPY scripts/generate-contract.mjs scripts/
COPY --from=proto-imports /src/.deps/proto .deps/proto
RUN npm run generate -- --contract-only

# The console bundles the SDK and decimal-ticks.ts from their TypeScript sources ("@hft/source"), so
# Vite needs those, the tsconfig files they extend and the SDK's generated code, not their builds.
FROM generate AS console
COPY tsconfig.base.json ./
COPY service-kit/tsconfig.json service-kit/
COPY service-kit/src/decimal-ticks.ts service-kit/src/
COPY sdk/ts/tsconfig.json sdk/ts/buf.gen.yaml sdk/ts/
COPY sdk/ts/src sdk/ts/src
# After the sources: the template's `clean` replaces any generated code the context carried.
RUN npx buf generate --template sdk/ts/buf.gen.yaml
COPY console/index.html console/vite.config.ts console/tsconfig.json console/
COPY console/public console/public
COPY console/src console/src
RUN npm run build -w @hft/console

FROM manifests AS production-deps
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:20.20.2-bookworm-slim
WORKDIR /app
# node_modules at the top and in the workspaces (npm links each workspace package from there).
COPY --from=production-deps /app ./
COPY --from=health-probe /out/grpc-health-probe /usr/local/bin/grpc-health-probe
COPY tsconfig.json tsconfig.base.json ./
COPY service-kit/tsconfig.json service-kit/
COPY service-kit/src service-kit/src
COPY contract/tsconfig.json contract/
COPY --from=generate /app/contract/src/gen contract/src/gen
COPY otel/tsconfig.json otel/
COPY otel/src otel/src
COPY order-service/tsconfig.json order-service/
COPY order-service/src order-service/src
COPY analytics-service/tsconfig.json analytics-service/
COPY analytics-service/src analytics-service/src
COPY gateway/tsconfig.json gateway/
COPY gateway/src gateway/src
COPY migrations migrations
# Where GATEWAY_CONSOLE_DIR points by default (../../console/dist from gateway/src).
COPY --from=console /app/console/dist console/dist
# The node image's unprivileged `node` user (uid and gid 1000).
USER 1000:1000
# gRPC of the order service (50061) and of the analytics service (50071), their metrics (9465,
# 9466), and the gateway (8080): the defaults of docker-compose.yml.
EXPOSE 50061 9465 50071 9466 8080
ENTRYPOINT ["node", "--conditions=@hft/source", "--import", "tsx", "--import", "@hft/otel/register"]
CMD ["gateway/src/main.ts"]
