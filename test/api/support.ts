/**
 * Handler contract-test support: points the functions' runtime at the run's Upstash REST stand-in
 * with a unique key prefix, and builds literal API Gateway v2 events for the real handlers.
 */
import { randomBytes, randomUUID } from "node:crypto";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { inject } from "vitest";
import { generateApiKey, type OperationName, type Role } from "../../packages/core/src/index.ts";
import { ROUTES } from "../../functions/routes.ts";

export interface ApiTestEnv {
  prefix: string;
  adminKey: string;
  encryptionKeys: string;
}

/** Call before the first handler runs (the runtime reads the environment once). */
export function configureApiEnv(): ApiTestEnv {
  const prefix = `api${randomUUID().slice(0, 8)}:`;
  const adminKey = generateApiKey().key;
  const encryptionKeys = `k2:${randomBytes(32).toString("base64")},k1:${randomBytes(32).toString("base64")}`;
  delete process.env["WORKSTREAM_REDIS_URL"];
  Object.assign(process.env, {
    UPSTASH_REDIS_REST_URL: inject("upstashUrl"),
    UPSTASH_REDIS_REST_TOKEN: inject("upstashToken"),
    WORKSTREAM_KEY_PREFIX: prefix,
    WORKSTREAM_ADMIN_KEY: adminKey,
    WORKSTREAM_ENCRYPTION_KEYS: encryptionKeys,
  });
  return { prefix, adminKey, encryptionKeys };
}

export interface EventInit {
  key?: string | null;
  body?: unknown;
  /** Send this exact text as the body (e.g. malformed JSON). */
  rawBody?: string;
  contentType?: string | null;
  query?: Record<string, string>;
  params?: Record<string, string>;
  headers?: Record<string, string>;
  base64?: boolean;
}

/** A literal API Gateway v2 (payload 2.0) event, as API Gateway sends it for the route. */
export function v2Event(method: string, path: string, init: EventInit = {}): APIGatewayProxyEventV2 {
  const text = init.rawBody ?? (init.body === undefined ? undefined : JSON.stringify(init.body));
  const headers: Record<string, string> = { host: "abc123.execute-api.eu-west-1.amazonaws.com", "user-agent": "vitest", ...init.headers };
  if (init.key) headers["authorization"] = `Bearer ${init.key}`;
  if (text !== undefined && init.contentType !== null) headers["content-type"] = init.contentType ?? "application/json";
  let rawPath = path;
  for (const [k, v] of Object.entries(init.params ?? {})) rawPath = rawPath.replace(`{${k}}`, encodeURIComponent(v));
  const route = ROUTES.find((r) => r.path === path);
  return {
    version: "2.0",
    routeKey: route ? `${route.method} ${route.path}` : "$default",
    rawPath,
    rawQueryString: new URLSearchParams(init.query ?? {}).toString(),
    headers,
    ...(init.query && { queryStringParameters: init.query }),
    ...(init.params && { pathParameters: init.params }),
    requestContext: {
      accountId: "123456789012",
      apiId: "abc123",
      domainName: "abc123.execute-api.eu-west-1.amazonaws.com",
      domainPrefix: "abc123",
      http: { method, path: rawPath, protocol: "HTTP/1.1", sourceIp: "192.0.2.1", userAgent: "vitest" },
      requestId: randomUUID(),
      routeKey: route ? `${route.method} ${route.path}` : "$default",
      stage: "$default",
      time: "23/Nov/2026:12:00:00 +0000",
      timeEpoch: 1795435200000,
    },
    ...(text !== undefined && { body: init.base64 ? Buffer.from(text).toString("base64") : text }),
    isBase64Encoded: init.base64 === true,
  };
}

export interface Reply {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- test-only convenience for reading JSON
  headers: Record<string, string>;
}

type Handler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;
const handlers = new Map<string, Handler>();

export async function handlerOf(name: string): Promise<Handler> {
  let h = handlers.get(name);
  if (!h) {
    h = ((await import(`../../functions/http/${name}.ts`)) as { handler: Handler }).handler;
    handlers.set(name, h);
  }
  return h;
}

export function toReply(r: APIGatewayProxyStructuredResultV2): Reply {
  return {
    status: r.statusCode ?? 0,
    body: r.body ? JSON.parse(r.body) : null,
    headers: Object.fromEntries(Object.entries(r.headers ?? {}).map(([k, v]) => [k, String(v)])),
  };
}

/** Invokes route `name`'s real handler with a literal event built for its method and path. */
export async function call(name: string, init: EventInit = {}): Promise<Reply> {
  const route = ROUTES.find((r) => r.name === name);
  if (!route) throw new Error(`no route ${name}`);
  return toReply(await (await handlerOf(name))(v2Event(route.method, route.path, init)));
}

/** Creates a key through the API with the bootstrap admin key. */
export async function createKey(adminKey: string, principal: string, roles: Role[], permissionLevels?: string[]): Promise<string> {
  const r = await call("keysCreate", { key: adminKey, body: { principal, roles, ...(permissionLevels && { permissionLevels }) } });
  if (r.status !== 201) throw new Error(`keysCreate failed: ${JSON.stringify(r.body)}`);
  return r.body.key as string;
}

// A request per route that passes auth and validation, used by the auth matrix.
export const SAMPLE: Record<OperationName, EventInit> = {
  enqueue: { body: { payload: {} } },
  enqueueBatch: { body: { jobs: [{ payload: {} }] } },
  getJob: { params: { id: "x-1" } },
  listJobs: { query: { state: "pending" } },
  schedulesPut: { body: { name: "nightly", cron: "@daily", job: { payload: {} } } },
  schedulesList: {},
  schedulesDelete: { params: { name: "nightly" } },
  cancelJob: { params: { id: "x-1" } },
  claim: { body: {} },
  heartbeat: { params: { id: "x-1" }, body: { token: 1 } },
  ack: { params: { id: "x-1" }, body: { token: 1 } },
  fail: { params: { id: "x-1" }, body: { token: 1, error: { message: "m" } } },
  release: { params: { id: "x-1" }, body: { token: 1 } },
  askQuestion: { params: { id: "x-1" }, body: { token: 1, request_type: "question", message: "?" } },
  getAnswer: { params: { requestId: "r-1" } },
  listRequests: {},
  answerRequest: { params: { requestId: "r-1" }, body: { response_type: "answer", message: "ok", generated_by: "automated" } },
  dlqList: {},
  dlqShow: { params: { id: "x-1" } },
  dlqReplay: { body: { ids: ["x-1"] } },
  dlqPurgeOne: { params: { id: "x-1" } },
  dlqPurgeAll: { query: { queue: "low_priority" } },
  stats: {},
  workerSuspend: { params: { id: "w-1" } },
  workerResume: { params: { id: "w-1" } },
  keysCreate: { body: { principal: "m", roles: ["producer"] } },
  keysList: {},
  keysRevoke: { params: { id: "zzzz0000" } },
  auditList: {},
  openapi: {},
};

