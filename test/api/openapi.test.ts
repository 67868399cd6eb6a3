/**
 * The route table, the handlers, the operations and the OpenAPI document agree: every route has a
 * handler file exporting `handler`; every API route an operation; the document has every API route,
 * its roles, its parameters and its error codes, generated from the same zod schemas that validate
 * requests. Page routes (the dashboard, test/api/dashboard.test.ts) live outside /v1 and the document.
 */
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { buildOpenApi, OPERATION_NAMES, OPERATIONS } from "../../packages/core/src/index.ts";
import { API_ROUTES, ROUTES } from "../../functions/routes.ts";

describe("routes ↔ handlers ↔ operations ↔ OpenAPI", () => {
  it("every route has a one-line handler file, every API route an operation, and vice versa", async () => {
    expect(new Set(API_ROUTES.map((r) => r.name))).toEqual(new Set(OPERATION_NAMES));
    expect(API_ROUTES.every((r) => r.path.startsWith("/v1/"))).toBe(true);
    for (const r of ROUTES.filter((x) => x.kind !== "api")) {
      expect(r.kind, r.name).toBe("page");
      expect(r.path.startsWith("/v1/"), r.name).toBe(false);
      expect(r.method, r.name).toBe("GET");
      expect(OPERATION_NAMES as readonly string[], r.name).not.toContain(r.name);
    }
    for (const r of ROUTES) {
      expect(existsSync(new URL(`../../functions/http/${r.name}.ts`, import.meta.url)), r.name).toBe(true);
      const mod = (await import(`../../functions/http/${r.name}.ts`)) as { handler?: unknown };
      expect(typeof mod.handler, r.name).toBe("function");
      expect(r.handler).toBe(`functions/http/${r.name}.handler`);
    }
  });

  it("documents every route with roles, path parameters, bodies and error codes", () => {
    const doc = buildOpenApi(API_ROUTES) as { openapi: string; paths: Record<string, Record<string, any>> };
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths).every((p) => p.startsWith("/v1/"))).toBe(true);
    for (const r of API_ROUTES) {
      const op = doc.paths[r.path]?.[r.method.toLowerCase()];
      expect(op, `${r.method} ${r.path}`).toBeDefined();
      expect(op.operationId).toBe(r.name);
      expect(op["x-roles"]).toEqual(OPERATIONS[r.name as keyof typeof OPERATIONS].roles);
      const pathParams = [...r.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      expect(op.parameters.filter((p: { in: string }) => p.in === "path").map((p: { name: string }) => p.name)).toEqual(pathParams);
      expect(op.responses["401"].description).toContain("unauthorized");
      expect(op.responses["500"]).toBeDefined();
      expect(Boolean(op.requestBody)).toBe(OPERATIONS[r.name as keyof typeof OPERATIONS].body !== undefined);
    }
    const enqueue = doc.paths["/v1/jobs"]!["post"];
    const body = enqueue.requestBody.content["application/json"].schema;
    expect(body.anyOf).toHaveLength(2); // a work order or a generic job
    expect(JSON.stringify(body)).toContain("work_order_id");
    expect(JSON.stringify(body)).toContain("sensitive");
    expect(doc.paths["/v1/jobs/{id}/ack"]!["post"].responses["409"].description).toContain("lease_lost");
    expect(doc.paths["/v1/dlq"]!["get"].parameters.map((p: { name: string }) => p.name)).toEqual(["queue", "reason", "error", "fingerprint", "since", "until", "limit", "cursor"]);
  });
});
