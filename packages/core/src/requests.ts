/**
 * Worker ↔ controller messaging (seed 1's worker_requests / controller_responses): a worker that
 * holds a job's lease asks a question; controllers list open requests and answer; the worker
 * waits for the answer (blocking over TCP, polling over HTTP). Unanswered requests expire at their
 * deadline, or as soon as the delivery that asked ends (the job is cancelled, acked, failed,
 * released or its lease is reclaimed): no answer could reach that worker any more.
 */
import { randomUUID } from "node:crypto";
import { z } from "zod";
import { listFromLua, type EngineContext } from "./context.ts";
import {
  JobNotFoundError,
  LeaseLostError,
  ValidationError,
  WorkstreamError,
} from "./errors.ts";
import {
  ControllerResponseMessage,
  GeneratedBy,
  Id,
  RequestType,
  ResponseType,
  WorkerRequestMessage,
} from "./messages.ts";
import type { BlockingRedisPort } from "./transports/port.ts";
import { validate } from "./validate.ts";

/**
 * Seed 1: worker_requests and controller_responses live 30 minutes; records are kept 1 h after.
 * The defaults of EngineSettings' requestTtlMs and requestRetentionMs.
 */
export const REQUEST_TTL_MS = 30 * 60_000;
export const REQUEST_RETENTION_MS = 60 * 60_000;

export const AskInput = z
  .object({
    requestType: RequestType,
    message: z.string().min(1).max(100_000),
    context: z.record(z.string(), z.unknown()).default({}),
    /** Thread id; a new thread when absent. */
    conversationId: Id.optional(),
    parentMessageId: Id.nullable().optional(),
    /** How long to wait for an answer; default: the engine's requestTtlMs. */
    ttlMs: z.number().int().min(1000).max(24 * 3_600_000).optional(),
    /** The request id (idempotency); generated when absent. */
    id: Id.optional(),
  })
  .strict();
export type AskInput = z.input<typeof AskInput>;

export const AnswerInput = z
  .object({
    responseType: ResponseType,
    message: z.string().max(100_000),
    instructions: z.array(z.string().max(10_000)).max(1000).default([]),
    generatedBy: GeneratedBy,
    responderId: z.string().max(256).nullable().default(null),
  })
  .strict();
export type AnswerInput = z.input<typeof AnswerInput>;

export type RequestStatus = "open" | "answered" | "expired";

export interface RequestView {
  status: RequestStatus;
  request: WorkerRequestMessage;
  response: ControllerResponseMessage | null;
}

const RequestRows = z.preprocess(
  listFromLua,
  z.array(
    z.object({
      id: z.string(),
      status: z.enum(["open", "answered", "expired"]),
      request: z.string(),
      response: z.union([z.string(), z.literal(false)]),
      expires_at: z.number(),
    }),
  ),
);

function toView(row: z.infer<typeof RequestRows>[number]): RequestView {
  return {
    status: row.status,
    request: WorkerRequestMessage.parse(JSON.parse(row.request)),
    response: row.response ? ControllerResponseMessage.parse(JSON.parse(row.response)) : null,
  };
}

export class RequestNotFoundError extends WorkstreamError {
  constructor(requestId: string) {
    super("request_not_found", `request "${requestId}" not found`, { requestId });
  }
}
export class RequestExpiredError extends WorkstreamError {
  constructor(requestId: string) {
    super("request_expired", `request "${requestId}" expired before it was answered`, { requestId });
  }
}
export class AlreadyAnsweredError extends WorkstreamError {
  constructor(requestId: string) {
    super("already_answered", `request "${requestId}" was already answered`, { requestId });
  }
}

const LeaseOk = z.union([z.object({ ok: z.literal(true) }), z.object({ ok: z.literal(false), code: z.string(), status: z.string().optional() })]);

export async function askQuestion(ctx: EngineContext, jobId: string, token: number, input: AskInput, job: { workerId: string; taskId: string; holder: string }): Promise<WorkerRequestMessage> {
  const id = validate(Id, jobId, "jobId");
  if (!Number.isSafeInteger(token) || token < 1) throw new ValidationError("lease token must be a positive whole number");
  const a = validate(AskInput, input, "");
  const now = ctx.now();
  const requestId = a.id ?? randomUUID();
  const ttlMs = a.ttlMs ?? ctx.settings.requestTtlMs;
  const request: WorkerRequestMessage = {
    id: requestId,
    worker_id: job.workerId,
    work_order_id: id,
    task_id: job.taskId,
    request_type: a.requestType,
    message: a.message,
    context: a.context,
    created_at: new Date(now).toISOString(),
    expires_at: new Date(now + ttlMs).toISOString(),
    conversation_id: a.conversationId ?? requestId,
    parent_message_id: a.parentMessageId ?? null,
  };
  const reply = LeaseOk.parse(
    JSON.parse(await ctx.run("ask", [id, token, requestId, JSON.stringify(request), now + ttlMs, ctx.settings.requestRetentionMs, job.workerId, job.holder])),
  );
  if (!reply.ok) {
    if (reply.code === "job_not_found") throw new JobNotFoundError(id);
    if (reply.code === "duplicate_request") throw new ValidationError(`id: request "${requestId}" already exists`, { path: ["id"] });
    throw new LeaseLostError(id, reply.status ?? null);
  }
  return request;
}

export async function answerRequest(ctx: EngineContext, requestId: string, input: AnswerInput): Promise<ControllerResponseMessage> {
  const rid = validate(Id, requestId, "requestId");
  const a = validate(AnswerInput, input, "");
  const [current] = await readRequests(ctx, "ids", [rid]);
  if (!current) throw new RequestNotFoundError(rid);
  const response: ControllerResponseMessage = {
    id: randomUUID(),
    request_id: rid,
    worker_id: current.request.worker_id,
    work_order_id: current.request.work_order_id,
    response_type: a.responseType,
    message: a.message,
    instructions: a.instructions,
    generated_by: a.generatedBy,
    responder_id: a.responderId,
    created_at: new Date(ctx.now()).toISOString(),
  };
  const reply = z
    .union([z.object({ ok: z.literal(true) }).passthrough(), z.object({ ok: z.literal(false), code: z.enum(["request_not_found", "request_expired", "already_answered"]) })])
    .parse(JSON.parse(await ctx.run("answer", [rid, JSON.stringify(response)])));
  if (!reply.ok) {
    if (reply.code === "request_expired") throw new RequestExpiredError(rid);
    if (reply.code === "already_answered") throw new AlreadyAnsweredError(rid);
    throw new RequestNotFoundError(rid);
  }
  return response;
}

async function readRequests(ctx: EngineContext, mode: "ids" | "open" | "closed", rest: ReadonlyArray<string | number>): Promise<RequestView[]> {
  return RequestRows.parse(JSON.parse(await ctx.run("get_request", [mode, ...rest]))).map(toView);
}

export async function getAnswer(ctx: EngineContext, requestId: string): Promise<RequestView> {
  const rid = validate(Id, requestId, "requestId");
  const [view] = await readRequests(ctx, "ids", [rid]);
  if (!view) throw new RequestNotFoundError(rid);
  return view;
}

export async function listRequests(ctx: EngineContext, opts: { status?: RequestStatus; limit?: number } = {}): Promise<Array<WorkerRequestMessage & { status: RequestStatus }>> {
  const limit = validate(z.number().int().min(1).max(500).default(100), opts.limit, "limit");
  const status = validate(z.enum(["open", "answered", "expired"]).default("open"), opts.status, "status");
  const rows = await readRequests(ctx, status === "open" ? "open" : "closed", [limit]);
  return rows.filter((r) => r.status === status).map((r) => ({ ...r.request, status: r.status }));
}

/**
 * Waits until the request is answered or expires, or `timeoutMs` passes. Over TCP it blocks on the
 * request's signal list (one command per wait); otherwise it polls once a second.
 */
export async function waitForAnswer(ctx: EngineContext, requestId: string, opts: { timeoutMs: number; blocking?: BlockingRedisPort }): Promise<RequestView> {
  const deadline = Date.now() + Math.max(0, opts.timeoutMs);
  for (let i = 0; i < 100_000; i++) {
    const view = await getAnswer(ctx, requestId);
    const left = deadline - Date.now();
    if (view.status !== "open" || left <= 0) return view;
    if (opts.blocking?.waitForList) await opts.blocking.waitForList(ctx.keys.requestSignal(requestId), Math.min(left, 30_000));
    else await new Promise((r) => setTimeout(r, Math.min(left, 1000)));
  }
  return getAnswer(ctx, requestId);
}
