export * from "./http.ts";
export * from "./operations.ts";
export * from "./service.ts";
export * from "./openapi.ts";
export * as ApiSchemas from "./schemas.ts";
