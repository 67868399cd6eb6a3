/**
 * Builds the OpenAPI 3.1 document from the operations' zod schemas (z.toJSONSchema) and the route
 * table (functions/routes.ts, passed in: core does not know where routes are wired).
 */
import { z } from "zod";
import { HTTP_STATUS } from "./http.ts";
import { OPERATIONS, OPERATION_NAMES, type OperationName } from "./operations.ts";
import { ErrorResponse } from "./schemas.ts";

export interface RouteInfo {
  readonly name: string;
  readonly method: string;
  readonly path: string;
}

type JsonSchema = Record<string, unknown>;

function schemaOf(schema: z.ZodType, io: "input" | "output"): JsonSchema {
  const js = z.toJSONSchema(schema, { io, unrepresentable: "any", target: "draft-2020-12" }) as JsonSchema;
  delete js["$schema"];
  return js;
}

function isOperationName(name: string): name is OperationName {
  return (OPERATION_NAMES as readonly string[]).includes(name);
}

export function buildOpenApi(routes: readonly RouteInfo[], opts: { serverUrl?: string; version?: string } = {}): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    if (!isOperationName(route.name)) throw new Error(`route "${route.name}" has no operation in packages/core/src/api/operations.ts`);
    const op = OPERATIONS[route.name];
    const parameters: unknown[] = [];
    for (const [where, schema] of [["path", op.params], ["query", op.query]] as const) {
      const js = schemaOf(schema, "input");
      const props = (js["properties"] ?? {}) as Record<string, JsonSchema>;
      const required = new Set((js["required"] ?? []) as string[]);
      for (const [name, p] of Object.entries(props)) {
        const { description, ...rest } = p;
        parameters.push({ name, in: where, required: where === "path" || required.has(name), schema: rest, ...(description !== undefined && { description }) });
      }
    }
    const responses: Record<string, unknown> = {};
    for (const [status, r] of Object.entries(op.responses)) {
      responses[status] = { description: r.description, content: { "application/json": { schema: schemaOf(r.schema, "output") } } };
    }
    const byStatus = new Map<number, string[]>();
    for (const code of new Set(op.errors)) byStatus.set(HTTP_STATUS[code], [...(byStatus.get(HTTP_STATUS[code]) ?? []), code]);
    byStatus.set(500, ["internal_error"]);
    for (const [status, codes] of [...byStatus].sort((a, b) => a[0] - b[0])) {
      responses[String(status)] = {
        description: `error codes: ${codes.join(", ")}`,
        content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
      };
    }
    const method = route.method.toLowerCase();
    paths[route.path] ??= {};
    paths[route.path]![method] = {
      operationId: route.name,
      summary: op.summary,
      ...(op.description !== undefined && { description: op.description }),
      tags: [op.tag],
      "x-roles": op.roles,
      parameters,
      ...(op.body && {
        requestBody: { required: op.body.required, content: { "application/json": { schema: schemaOf(op.body.schema, "input") } } },
      }),
      responses,
    };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Workstream API",
      version: opts.version ?? "1",
      description:
        "A durable work-order queue on Redis Streams. Authenticate with `Authorization: Bearer ws_<id>_<secret>` (or `x-api-key`). Errors are `{ error: { code, message, details } }`.",
    },
    ...(opts.serverUrl && { servers: [{ url: opts.serverUrl }] }),
    security: [{ apiKey: [] }],
    tags: ["producers", "workers", "messages", "dlq", "observability", "admin"].map((name) => ({ name })),
    paths,
    components: {
      securitySchemes: { apiKey: { type: "http", scheme: "bearer", description: "ws_<id>_<secret>" } },
      schemas: { Error: schemaOf(ErrorResponse, "output") },
    },
  };
}
