/**
 * The HTTP API surface: one API Gateway v2 route per Lambda handler in `functions/`.
 *
 * This table is the single source for the infrastructure (`infra/api.ts` wires one route per
 * entry), the local stack (which serves the same handlers) and the OpenAPI document. It has no
 * imports so that SST's config bundler and the Lambda bundles can both read it.
 *
 * Two kinds of route: `api` routes (under /v1) are the operations of packages/core/src/api, each
 * authenticated and in the OpenAPI document (`API_ROUTES`); `page` routes serve a static page that
 * holds no data and needs no key (the web dashboard, which then calls the /v1 API with the key
 * its user types in).
 */
export interface RouteDef {
  /** Stable resource-friendly name, also the handler's file name under `functions/http/`. */
  readonly name: string;
  readonly method: "GET" | "POST" | "DELETE";
  /** API Gateway v2 path with `{param}` placeholders. */
  readonly path: string;
  /** Handler reference as SST expects it: file path without extension, then the export. */
  readonly handler: string;
  /** `api`: an operation of packages/core/src/api (key required, in the OpenAPI document); `page`: a static page. */
  readonly kind: "api" | "page";
}

const route = (name: string, method: RouteDef["method"], path: string): RouteDef => ({
  name,
  method,
  path,
  handler: `functions/http/${name}.handler`,
  kind: "api",
});

const page = (name: string, path: string): RouteDef => ({ name, method: "GET", path, handler: `functions/http/${name}.handler`, kind: "page" });

export const ROUTES: readonly RouteDef[] = [
  // Producers
  route("enqueue", "POST", "/v1/jobs"),
  route("enqueueBatch", "POST", "/v1/jobs/batch"),
  route("getJob", "GET", "/v1/jobs/{id}"),
  route("listJobs", "GET", "/v1/jobs"),
  route("cancelJob", "POST", "/v1/jobs/{id}/cancel"),
  route("schedulesPut", "POST", "/v1/schedules"),
  route("schedulesList", "GET", "/v1/schedules"),
  route("schedulesDelete", "DELETE", "/v1/schedules/{name}"),
  // Workers
  route("claim", "POST", "/v1/claim"),
  route("heartbeat", "POST", "/v1/jobs/{id}/heartbeat"),
  route("ack", "POST", "/v1/jobs/{id}/ack"),
  route("fail", "POST", "/v1/jobs/{id}/fail"),
  route("release", "POST", "/v1/jobs/{id}/release"),
  route("askQuestion", "POST", "/v1/jobs/{id}/requests"),
  route("getAnswer", "GET", "/v1/requests/{requestId}/response"),
  // Controllers
  route("listRequests", "GET", "/v1/requests"),
  route("answerRequest", "POST", "/v1/requests/{requestId}/response"),
  // Dead-letter triage
  route("dlqList", "GET", "/v1/dlq"),
  route("dlqShow", "GET", "/v1/dlq/{id}"),
  route("dlqReplay", "POST", "/v1/dlq/replay"),
  route("dlqPurgeOne", "DELETE", "/v1/dlq/{id}"),
  route("dlqPurgeAll", "DELETE", "/v1/dlq"),
  // Observability
  route("stats", "GET", "/v1/stats"),
  route("workerSuspend", "POST", "/v1/workers/{id}/suspend"),
  route("workerResume", "POST", "/v1/workers/{id}/resume"),
  // Administration
  route("keysCreate", "POST", "/v1/keys"),
  route("keysList", "GET", "/v1/keys"),
  route("keysRevoke", "DELETE", "/v1/keys/{id}"),
  route("auditList", "GET", "/v1/audit"),
  route("openapi", "GET", "/v1/openapi.json"),
  // Pages (no data, no key: they call the routes above with the key their user types in)
  page("dashboard", "/dashboard"),
];

/** The operations' routes (under /v1): what the API service runs and the OpenAPI document lists. */
export const API_ROUTES: readonly RouteDef[] = ROUTES.filter((r) => r.kind === "api");

/** Scheduled functions (EventBridge, every minute). */
export const CRONS = [
  { name: "reclaim", handler: "functions/cron/reclaim.handler", schedule: "rate(1 minute)" },
  { name: "metrics", handler: "functions/cron/metrics.handler", schedule: "rate(1 minute)" },
] as const;
