/**
 * A local HTTP front for Lambda handlers: each request becomes an API Gateway v2 (payload 2.0)
 * event — as API Gateway builds it — and the handler's result becomes the response. Used by the
 * local stack (`npm run dev`) and end-to-end tests to serve the very same handlers as AWS.
 */
import { randomUUID } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";

export type EventDispatcher = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

export interface HttpApiOptions {
  dispatch: EventDispatcher;
  /** Port on 127.0.0.1; default a free one. */
  port?: number;
  /** API Gateway's own payload limit (10 MB): larger requests never reach a handler. */
  maxRequestBytes?: number;
}

export interface HttpApiHandle {
  url: string;
  port: number;
  close(): Promise<void>;
}

const TEXT_TYPES = /^(application\/(?:[\w.+-]+\+)?json|text\/|application\/xml|application\/x-www-form-urlencoded)/i;

function jsonError(res: http.ServerResponse, status: number, code: string, message: string): void {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8" });
  res.end(JSON.stringify({ error: { code, message, details: {} } }));
}

/** Builds the v2 event API Gateway would send for this request. */
export function toEventV2(req: http.IncomingMessage, body: Buffer): APIGatewayProxyEventV2 {
  const url = new URL(req.url ?? "/", "http://127.0.0.1");
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v !== undefined && k !== "cookie") headers[k.toLowerCase()] = Array.isArray(v) ? v.join(",") : v;
  }
  const query: Record<string, string> = {};
  for (const [k, v] of url.searchParams) query[k] = k in query ? `${query[k]},${v}` : v;
  const isText = TEXT_TYPES.test(headers["content-type"] ?? "");
  const now = new Date();
  const method = (req.method ?? "GET").toUpperCase();
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    ...(req.headers.cookie && { cookies: req.headers.cookie.split(/;\s*/) }),
    headers,
    ...(Object.keys(query).length > 0 && { queryStringParameters: query }),
    requestContext: {
      accountId: "local",
      apiId: "local",
      domainName: headers["host"] ?? "127.0.0.1",
      domainPrefix: "local",
      http: {
        method,
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? "127.0.0.1",
        userAgent: headers["user-agent"] ?? "",
      },
      requestId: randomUUID(),
      routeKey: "$default",
      stage: "$default",
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(body.length > 0 && { body: isText ? body.toString("utf8") : body.toString("base64") }),
    isBase64Encoded: body.length > 0 && !isText,
  };
}

export async function startHttpApi(opts: HttpApiOptions): Promise<HttpApiHandle> {
  const limit = opts.maxRequestBytes ?? 10 * 1024 * 1024;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > limit) tooLarge = true;
      else chunks.push(c);
    });
    req.on("error", () => res.destroy());
    req.on("end", () => {
      if (tooLarge) return jsonError(res, 413, "payload_too_large", `request is larger than ${limit} bytes`);
      opts
        .dispatch(toEventV2(req, Buffer.concat(chunks)))
        .then((out) => {
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(out.headers ?? {})) headers[k] = String(v);
          res.writeHead(out.statusCode ?? 200, headers);
          res.end(out.isBase64Encoded && out.body ? Buffer.from(out.body, "base64") : (out.body ?? ""));
        })
        .catch((err: unknown) => {
          console.error("local http: handler crashed", err);
          jsonError(res, 502, "internal_error", "the handler crashed (API Gateway would answer 502)");
        });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
