/**
 * The thin Lambda adapter every `functions/http/<route>.ts` is made of:
 * parse the event → authenticate and authorize → call the core operation → map the result.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { errorResponse, WorkstreamError, type ApiResponse, type OperationName } from "../../packages/core/src/index.ts";
import { ROUTES } from "../routes.ts";
import { parseEvent } from "./event.ts";
import { runtime, type Runtime } from "./runtime.ts";

export type HttpHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

export function toResult(res: ApiResponse): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode: res.status,
    headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", ...res.headers },
    body: JSON.stringify(res.body),
  };
}

export function httpHandler(name: OperationName): HttpHandler {
  const route = ROUTES.find((r) => r.name === name);
  if (!route) throw new Error(`no route named "${name}" in functions/routes.ts`);
  return async (event) => {
    let rt: Runtime;
    try {
      rt = runtime();
    } catch (e) {
      console.error("workstream api: configuration error", e);
      return toResult(errorResponse(e));
    }
    try {
      const req = parseEvent(event);
      if (req.method !== route.method) {
        throw new WorkstreamError("method_not_allowed", `${req.method} is not allowed here; use ${route.method}`, { allow: [route.method] });
      }
      const op = rt.api.operation(name);
      const principal = await rt.api.authenticate(op, req);
      await rt.api.authorize(op, principal);
      return toResult(await rt.api.execute(op, principal, req));
    } catch (e) {
      return toResult(rt.api.fail(e));
    }
  };
}
