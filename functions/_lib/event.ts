/**
 * API Gateway v2 (HTTP API, payload 2.0) events → the core's ApiRequest. A malformed event is the
 * caller's fault (400 bad_request), never a 500.
 */
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { z } from "zod";
import { WorkstreamError, type ApiRequest } from "../../packages/core/src/index.ts";

const StringMap = z.record(z.string(), z.string().optional()).optional().nullable();

const EventV2 = z.object({
  rawPath: z.string().startsWith("/"),
  headers: StringMap,
  queryStringParameters: StringMap,
  pathParameters: StringMap,
  body: z.string().optional().nullable(),
  isBase64Encoded: z.boolean().optional(),
  requestContext: z.object({ http: z.object({ method: z.string().min(1) }) }),
});

const clean = (m: Record<string, string | undefined> | null | undefined, lower = false): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(m ?? {})) if (v !== undefined) out[lower ? k.toLowerCase() : k] = v;
  return out;
};

export function parseEvent(event: APIGatewayProxyEventV2 | unknown): ApiRequest {
  const r = EventV2.safeParse(event);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new WorkstreamError("bad_request", `malformed API Gateway v2 event at ${issue.path.join(".") || "(root)"}: ${issue.message}`);
  }
  const e = r.data;
  let body: string | null = null;
  let bodyBytes = 0;
  if (e.body !== undefined && e.body !== null) {
    const buf = e.isBase64Encoded ? Buffer.from(e.body, "base64") : Buffer.from(e.body, "utf8");
    body = buf.toString("utf8");
    bodyBytes = buf.length;
  }
  return {
    method: e.requestContext.http.method.toUpperCase(),
    path: e.rawPath,
    headers: clean(e.headers, true),
    query: clean(e.queryStringParameters),
    params: clean(e.pathParameters),
    body,
    bodyBytes,
  };
}
