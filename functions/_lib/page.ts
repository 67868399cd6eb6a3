/**
 * The thin Lambda adapter for `page` routes (functions/routes.ts): a static page that holds no
 * data, so no key is asked for. Malformed events and a request body get 400, another method 405,
 * as on the API routes (functions/_lib/handler.ts); the page itself comes from core.
 */
import type { APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { errorResponse, WorkstreamError } from "../../packages/core/src/index.ts";
import type { PageResponse } from "../../packages/core/src/dashboard/page.ts";
import { ROUTES } from "../routes.ts";
import { parseEvent } from "./event.ts";
import { toResult, type HttpHandler } from "./handler.ts";

export function pageHandler(name: string, render: () => PageResponse): HttpHandler {
  const route = ROUTES.find((r) => r.name === name);
  if (!route || route.kind !== "page") throw new Error(`no page route named "${name}" in functions/routes.ts`);
  return async (event) => {
    try {
      const req = parseEvent(event);
      if (req.method !== route.method) {
        throw new WorkstreamError("method_not_allowed", `${req.method} is not allowed here; use ${route.method}`, { allow: [route.method] });
      }
      if (req.body !== null && req.body.trim() !== "") throw new WorkstreamError("bad_request", `"${route.name}" takes no request body`);
      const page = render();
      const result: APIGatewayProxyStructuredResultV2 = { statusCode: page.status, headers: { ...page.headers }, body: page.body };
      return result;
    } catch (e) {
      return toResult(errorResponse(e));
    }
  };
}
