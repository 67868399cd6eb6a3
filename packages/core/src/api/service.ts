/**
 * The API core: knows requests and responses, not Lambda. One request goes
 *
 *   authenticate (401) → authorize (403) → read the body (413, 415, invalid JSON 400)
 *   → parse path/query/body with the operation's schemas (400 naming the field) → run → audit
 *
 * and every failure becomes `{ error: { code, message, details } }` through http.ts. Nothing is
 * written before all input is valid; the audit entry is written after the operation, with its
 * outcome (operations rejected for bad input are not queue operations and are not logged).
 */
import type { Engine } from "../engine.ts";
import { ForbiddenError, UnauthorizedError, ValidationError, WorkstreamError, type ErrorCode } from "../errors.ts";
import type { RedisPort } from "../transports/port.ts";
import { ApiKeyStore, type AuthPrincipal } from "../security/api-keys.ts";
import { AuditLog, DEFAULT_AUDIT_MAX_ENTRIES } from "../security/audit.ts";
import { jsonDepth, MAX_JSON_DEPTH, type Keyring } from "../security/encryption.ts";
import { scriptRunner } from "../security/runner.ts";
import { errorBody, errorResponse, isUnexpected, type ApiRequest, type ApiResponse } from "./http.ts";
import { buildOpenApi, type RouteInfo } from "./openapi.ts";
import { OPERATIONS, type ApiHooks, type OpContext, type Operation, type OperationName, type WorkerControl } from "./operations.ts";

/** Request bodies above this many bytes get 413 (1 MiB of payload plus room for the envelope). */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024 + 64 * 1024;

export interface ApiServiceOptions {
  engine: Engine;
  /** The same port the engine uses: API keys, audit and lease checks are scripts too. */
  redis: RedisPort;
  keyring?: Keyring | null;
  /** The bootstrap admin key (from api-keys.ts `bootstrapKey`), checked in memory. */
  bootstrapAdmin?: { id: string; hash: string } | null;
  routes: readonly RouteInfo[];
  maxBodyBytes?: number;
  auditMaxEntries?: number;
  hooks?: ApiHooks;
  /** The worker registry (stats, suspend/resume); null when the deployment has none. */
  workers?: WorkerControl | null;
  /** Where unexpected errors and failed audit writes are reported. Default: console.error. */
  log?: (message: string, err: unknown) => void;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

/** Outcomes that mean "the input was refused before anything ran": not audited. */
const INPUT_CODES: ReadonlySet<ErrorCode> = new Set([
  "bad_request", "invalid_json", "validation_error", "unknown_queue", "payload_too_large", "unsupported_media_type", "not_found", "method_not_allowed",
]);

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;.*)?$/i;

export class ApiService {
  readonly keys: ApiKeyStore;
  readonly audit: AuditLog;
  readonly engine: Engine;
  private readonly opts: ApiServiceOptions;
  private readonly maxBodyBytes: number;
  private readonly log: (message: string, err: unknown) => void;
  private readonly run;
  private openapiDoc: unknown;

  constructor(opts: ApiServiceOptions) {
    this.opts = opts;
    this.engine = opts.engine;
    const now = opts.now ?? Date.now;
    this.run = scriptRunner(opts.redis, opts.engine.keys.prefix, now);
    this.keys = new ApiKeyStore(this.run, opts.engine.keys, now, opts.bootstrapAdmin ?? null);
    this.audit = new AuditLog(this.run, opts.engine.keys, opts.auditMaxEntries ?? DEFAULT_AUDIT_MAX_ENTRIES);
    this.maxBodyBytes = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    this.log = opts.log ?? ((m, e) => console.error(m, e));
  }

  operation(name: OperationName): Operation {
    return OPERATIONS[name];
  }

  /** 401 unless the request carries a valid, unexpired, unrevoked key. A presented-but-rejected known key is audited. */
  async authenticate(op: Operation, req: ApiRequest): Promise<AuthPrincipal> {
    const raw = presentedKey(req.headers);
    if (raw === null) throw new UnauthorizedError();
    const v = await this.keys.verify(raw);
    if (v.ok) return v.principal;
    if (v.keyId !== null && v.reason !== "unknown") {
      await this.record({ principal: "?", keyId: v.keyId, action: op.name, jobId: null, outcome: "unauthorized", status: 401, details: { reason: v.reason } });
    }
    throw new UnauthorizedError(v.reason === "expired" ? "this API key has expired" : v.reason === "revoked" ? "this API key was revoked" : undefined);
  }

  /** 403 unless one of the principal's roles may call the operation. Audited. */
  async authorize(op: Operation, principal: AuthPrincipal): Promise<void> {
    if (principal.roles.some((r) => op.roles.includes(r))) return;
    await this.record({ principal: principal.name, keyId: principal.keyId, action: op.name, jobId: null, outcome: "forbidden", status: 403 });
    throw new ForbiddenError(`"${op.name}" needs one of the roles ${op.roles.join(", ")}; this key has ${principal.roles.join(", ")}`, {
      required: op.roles,
      roles: principal.roles,
    });
  }

  /** Reads and validates the input, runs the operation, audits it. Errors propagate (see handle). */
  async execute(op: Operation, principal: AuthPrincipal, req: ApiRequest): Promise<ApiResponse> {
    const keyring = this.opts.keyring ?? null;
    const input = op.parse({ params: req.params, query: req.query, body: this.readBody(op, req) }, { keyring });
    const ctx = this.context(principal);
    let jobId: string | null = typeof (input.params as { id?: unknown }).id === "string" ? (input.params as { id: string }).id : null;
    try {
      const out = await op.run(ctx, input);
      if (op.audit && out.audit !== false) {
        jobId = out.jobId === undefined ? jobId : out.jobId;
        await this.record({ principal: principal.name, keyId: principal.keyId, action: op.name, jobId, outcome: "ok", status: out.status, details: out.details });
      }
      return { status: out.status, body: out.body };
    } catch (e) {
      if (op.audit && !(e instanceof WorkstreamError && INPUT_CODES.has(e.code))) {
        const res = errorResponse(e);
        const code = (res.body as ReturnType<typeof errorBody>).error.code;
        await this.record({ principal: principal.name, keyId: principal.keyId, action: op.name, jobId, outcome: code, status: res.status });
      }
      throw e;
    }
  }

  /** The whole pipeline for one request; never throws. */
  async handle(name: OperationName, req: ApiRequest): Promise<ApiResponse> {
    const op = this.operation(name);
    try {
      const principal = await this.authenticate(op, req);
      await this.authorize(op, principal);
      return await this.execute(op, principal, req);
    } catch (e) {
      return this.fail(e);
    }
  }

  /** Maps an error to its response, logging the unexpected ones. */
  fail(e: unknown): ApiResponse {
    if (isUnexpected(e)) this.log("workstream api: unexpected error", e);
    return errorResponse(e);
  }

  openapi(): unknown {
    this.openapiDoc ??= buildOpenApi(this.opts.routes);
    return this.openapiDoc;
  }

  private readBody(op: Operation, req: ApiRequest): unknown {
    const text = req.body;
    const empty = text === null || text.trim() === "";
    if (!op.body) {
      if (!empty) throw new WorkstreamError("bad_request", `"${op.name}" takes no request body`);
      return undefined;
    }
    if (req.bodyBytes > this.maxBodyBytes) {
      throw new WorkstreamError("payload_too_large", `request body is ${req.bodyBytes} bytes, the limit is ${this.maxBodyBytes}`, { bytes: req.bodyBytes, limit: this.maxBodyBytes });
    }
    if (empty) {
      if (op.body.required) throw new ValidationError("body: a JSON body is required", { path: ["body"] });
      return undefined;
    }
    const type = req.headers["content-type"] ?? "";
    if (!JSON_TYPE.test(type)) {
      throw new WorkstreamError("unsupported_media_type", `Content-Type must be application/json${type ? `, not ${type.slice(0, 100)}` : ""}`, { contentType: type.slice(0, 100) });
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      throw new WorkstreamError("invalid_json", `body is not valid JSON: ${e instanceof Error ? e.message.slice(0, 200) : "parse error"}`);
    }
    if (jsonDepth(value) > MAX_JSON_DEPTH) throw new ValidationError(`body: JSON nested deeper than ${MAX_JSON_DEPTH} levels`, { path: ["body"] });
    return value;
  }

  private context(principal: AuthPrincipal): OpContext {
    return {
      engine: this.engine,
      principal,
      keys: this.keys,
      audit: this.audit,
      keyring: this.opts.keyring ?? null,
      hooks: this.opts.hooks ?? {},
      workers: this.opts.workers ?? null,
      openapi: () => this.openapi(),
      hook: async (fn) => {
        try {
          await fn();
        } catch (e) {
          this.log("workstream api: hook failed", e);
        }
      },
      sleep: this.opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))),
    };
  }

  /** Audit writes never fail the request they describe: the operation already happened. */
  private async record(e: Parameters<AuditLog["append"]>[0]): Promise<void> {
    try {
      await this.audit.append(e);
    } catch (err) {
      this.log("workstream api: audit write failed", err);
    }
  }
}

function presentedKey(headers: Readonly<Record<string, string>>): string | null {
  const auth = headers["authorization"];
  if (auth) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    return m ? m[1]! : null;
  }
  const x = headers["x-api-key"];
  return x ? x.trim() : null;
}
