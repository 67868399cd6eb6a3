/**
 * Routing by functions/routes.ts, as API Gateway does in AWS, for the local stack and tests: a
 * request event (rawPath + method) → the route's handler with pathParameters filled in. Unknown
 * paths get 404 not_found, known paths with another method 405 method_not_allowed.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { errorResponse, WorkstreamError } from "../../packages/core/src/index.ts";
import { ROUTES, type RouteDef } from "../routes.ts";
import { toResult, type HttpHandler } from "./handler.ts";

interface Compiled {
  route: RouteDef;
  regex: RegExp;
  names: string[];
  statics: number;
}

const COMPILED: Compiled[] = ROUTES.map((route) => {
  const names: string[] = [];
  const segs = route.path.split("/").map((seg) => {
    const m = /^\{(\w+)\}$/.exec(seg);
    if (!m) return seg.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    names.push(m[1]!);
    return "([^/]+)";
  });
  return { route, regex: new RegExp(`^${segs.join("/")}$`), names, statics: route.path.split("/").length - names.length };
});

const loaded = new Map<string, HttpHandler>();

async function handlerFor(route: RouteDef): Promise<HttpHandler> {
  let h = loaded.get(route.name);
  if (!h) {
    const mod = (await import(`../http/${route.name}.ts`)) as { handler?: unknown };
    if (typeof mod.handler !== "function") throw new Error(`functions/http/${route.name}.ts does not export a handler`);
    h = mod.handler as HttpHandler;
    loaded.set(route.name, h);
  }
  return h;
}

/** The route an HTTP method and raw path resolve to, with its decoded path parameters. */
export function matchRoute(method: string, rawPath: string): { route: RouteDef; params: Record<string, string> } {
  const hits = COMPILED.map((c) => ({ c, m: c.regex.exec(rawPath) })).filter((h) => h.m !== null);
  if (hits.length === 0) throw new WorkstreamError("not_found", `no route for ${rawPath.slice(0, 200)}`, { path: rawPath.slice(0, 200) });
  const same = hits.filter((h) => h.c.route.method === method.toUpperCase()).sort((a, b) => b.c.statics - a.c.statics);
  if (same.length === 0) {
    const allow = [...new Set(hits.map((h) => h.c.route.method))];
    throw new WorkstreamError("method_not_allowed", `${method} is not allowed on ${rawPath.slice(0, 200)}; allowed: ${allow.join(", ")}`, { allow });
  }
  const { c, m } = same[0]!;
  const params: Record<string, string> = {};
  for (const [i, name] of c.names.entries()) {
    try {
      params[name] = decodeURIComponent(m![i + 1]!);
    } catch {
      throw new WorkstreamError("bad_request", `path parameter ${name} is not valid percent-encoding`);
    }
  }
  return { route: c.route, params };
}

export async function dispatch(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  try {
    const method = event?.requestContext?.http?.method ?? "";
    const { route, params } = matchRoute(method, event?.rawPath ?? "");
    const handler = await handlerFor(route);
    return await handler({ ...event, routeKey: `${route.method} ${route.path}`, pathParameters: params });
  } catch (e) {
    const res = errorResponse(e);
    if (res.status === 405) {
      const allow = (e as WorkstreamError).details["allow"];
      res.headers = { allow: Array.isArray(allow) ? allow.join(", ") : "" };
    }
    return toResult(res);
  }
}
