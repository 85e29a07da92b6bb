/** AnalyticsService calls with a bearer token, as promises; and dev tokens for the test accounts. */
import * as grpc from "@grpc/grpc-js";
import { type Role, signDevToken } from "@hft/service-kit";
import type {
  AnalyticsServiceClient,
  GetAnalyticsRequest,
  GetAnalyticsResponse,
  GetDailyPnlRequest,
  GetDailyPnlResponse,
  GetSymbolStatsRequest,
  GetSymbolStatsResponse,
} from "@hft/contract/grpc/hft/v1/analytics_service.js";

export function token(account: string, role: Role = "trader"): Promise<string> {
  return signDevToken({ account, role, hs256Secret: process.env.AUTH_HS256_SECRET!, issuer: process.env.AUTH_ISSUER!, audience: process.env.AUTH_AUDIENCE! });
}

type Unary<Req, Res> = (request: Req, metadata: grpc.Metadata, callback: (error: grpc.ServiceError | null, response: Res) => void) => grpc.ClientUnaryCall;

/** Calls `method` of `client` with `bearer` (none when undefined); rejects with the ServiceError. */
export function call<Req, Res>(client: AnalyticsServiceClient, method: Unary<Req, Res>, request: Req, bearer: string | undefined): Promise<Res> {
  const metadata = new grpc.Metadata();
  if (bearer !== undefined) metadata.set("authorization", `Bearer ${bearer}`);
  return new Promise((resolve, reject) => method.call(client, request, metadata, (error, response) => (error ? reject(error) : resolve(response))));
}

export const getAnalytics = (client: AnalyticsServiceClient, request: GetAnalyticsRequest, bearer: string | undefined) =>
  call<GetAnalyticsRequest, GetAnalyticsResponse>(client, client.getAnalytics, request, bearer);
export const getDailyPnl = (client: AnalyticsServiceClient, request: GetDailyPnlRequest, bearer: string | undefined) =>
  call<GetDailyPnlRequest, GetDailyPnlResponse>(client, client.getDailyPnl, request, bearer);
export const getSymbolStats = (client: AnalyticsServiceClient, request: GetSymbolStatsRequest, bearer: string | undefined) =>
  call<GetSymbolStatsRequest, GetSymbolStatsResponse>(client, client.getSymbolStats, request, bearer);

/** The status code, details and hft-reason of a failed call. */
export async function failure(promise: Promise<unknown>): Promise<{ code: grpc.status; details: string; reason: string }> {
  try {
    await promise;
  } catch (error) {
    const e = error as grpc.ServiceError;
    return { code: e.code, details: e.details, reason: String(e.metadata?.get("hft-reason")[0] ?? "") };
  }
  throw new Error("expected the call to fail");
}
