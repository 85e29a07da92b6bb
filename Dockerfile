# syntax=docker/dockerfile:1
# The TypeScript services in one image: the order service, the analytics service, the gateway and
# the migration runner. The command picks one; they run from their TypeScript sources exactly as
# scripts/services.sh runs them (node --conditions=@hft/source --import tsx --import
# @hft/otel/register <service>/src/main.ts):
#   docker build -t hft-services:dev .
#   docker run hft-services:dev order-service/src/main.ts     (default: the gateway)
# 1. the .proto files the contract imports, from Maven as scripts/generate-contract.mjs fetches them;
# 2. grpc-health-probe for the gRPC services' health checks;
# 3. every npm dependency, then the contract code generated from proto/ (npm run generate);
# 4. the production dependencies alone (npm ci --omit=dev);
# 5. node:20-slim with those, the sources and the generated code, run as the image's `node` user.

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

FROM manifests AS generate
RUN npm ci --no-audit --no-fund
COPY buf.yaml buf.gen.yaml ./
COPY proto proto
COPY scripts/generate-contract.mjs scripts/
COPY --from=proto-imports /src/.deps/proto .deps/proto
RUN npm run generate

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
# The node image's unprivileged `node` user (uid and gid 1000).
USER 1000:1000
# gRPC of the order service (50061) and of the analytics service (50071), their metrics (9465,
# 9466), and the gateway (8080): the defaults of docker-compose.yml.
EXPOSE 50061 9465 50071 9466 8080
ENTRYPOINT ["node", "--conditions=@hft/source", "--import", "tsx", "--import", "@hft/otel/register"]
CMD ["gateway/src/main.ts"]
