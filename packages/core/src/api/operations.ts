/**
 * Every API operation, HTTP-agnostic: who may call it, the schemas of its path parameters, query
 * and body, what it returns, which errors it can produce, and what it does (one engine or
 * security call, plus the checks around it). `service.ts` runs them; `openapi.ts` documents them.
 */
import { z } from "zod";
import type { Engine, EnqueueResult, FailOutcome } from "../engine.ts";
import { splitWorkOrderOptions, workOrderRequest, type EnqueueRequestInput } from "../enqueue-request.ts";
import { ForbiddenError, WorkerNotFoundError, type ErrorCode } from "../errors.ts";
import { RequestNotFoundError } from "../requests.ts";
import type { Job } from "../job.ts";
import type { ApiKeyStore, AuthPrincipal, Role } from "../security/api-keys.ts";
import type { AuditLog } from "../security/audit.ts";
import { openAll, sealFields, sealReplayPayload, type Keyring } from "../security/encryption.ts";
import { validate } from "../validate.ts";
import * as S from "./schemas.ts";

/** Hooks other modules (notifications, metrics) attach to successful operations. Failures in a hook are logged, never returned. */
export interface ApiHooks {
  /** `runAt` (ms): when a scheduled job is due, so a push queue's delivery can wait for it. */
  afterEnqueue?(results: ReadonlyArray<EnqueueResult & { runAt: number | null }>): Promise<unknown> | void;
  afterAck?(input: { jobId: string; ack: { callbackUrl: string | null } }): Promise<unknown> | void;
  afterFail?(input: { jobId: string; fail: { outcome: FailOutcome; nextAttemptAt: number | null; callbackUrl: string | null } }): Promise<unknown> | void;
}

/** The worker registry as the API uses it (packages/core/src/worker/registry.ts provides it). */
export interface WorkerControl {
  stats(): Promise<z.infer<typeof S.WorkerStatsView>>;
  /** False when no such worker is registered. */
  suspend(workerId: string): Promise<boolean>;
  resume(workerId: string): Promise<boolean>;
}

export interface OpContext {
  engine: Engine;
  principal: AuthPrincipal;
  keys: ApiKeyStore;
  audit: AuditLog;
  keyring: Keyring | null;
  hooks: ApiHooks;
  workers: WorkerControl | null;
  openapi(): unknown;
  /** Runs a hook after the response is decided; errors are logged. */
  hook(run: () => Promise<unknown> | void): Promise<void>;
  sleep(ms: number): Promise<void>;
}

export interface OpOutcome {
  status: number;
  body: unknown;
  /** The job this operation was about, for the audit log. */
  jobId?: string | null;
  details?: Record<string, unknown>;
  /** False: nothing happened worth auditing (an empty claim). */
  audit?: boolean;
}

export interface OpInput<P, Q, B> {
  params: P;
  query: Q;
  body: B;
}

interface OperationSpec<P, Q, B> {
  summary: string;
  description?: string;
  tag: "producers" | "workers" | "messages" | "dlq" | "observability" | "admin";
  roles: readonly Role[];
  /** Recorded in the audit log (state-changing operations). */
  audit: boolean;
  params: z.ZodType<P>;
  query: z.ZodType<Q>;
  /** Absent: the operation takes no body. `parse` overrides the schema at run time (the schema still documents it). */
  body?: { schema: z.ZodType; required: boolean; parse: (raw: unknown, ctx: { keyring: Keyring | null }) => B };
  responses: Record<number, { description: string; schema: z.ZodType }>;
  errors: readonly ErrorCode[];
  run(ctx: OpContext, input: OpInput<P, Q, NoInfer<B>>): Promise<OpOutcome>;
}

export interface Operation {
  readonly name: OperationName;
  readonly summary: string;
  readonly description: string | undefined;
  readonly tag: string;
  readonly roles: readonly Role[];
  readonly audit: boolean;
  readonly params: z.ZodType;
  readonly query: z.ZodType;
  readonly body: { schema: z.ZodType; required: boolean } | undefined;
  readonly responses: Readonly<Record<number, { description: string; schema: z.ZodType }>>;
  readonly errors: readonly ErrorCode[];
  /** Validates the raw parts of a request (each error names its field) into the operation's input. */
  parse(raw: { params: unknown; query: unknown; body: unknown }, ctx: { keyring: Keyring | null }): OpInput<unknown, unknown, unknown>;
  run(ctx: OpContext, input: OpInput<unknown, unknown, unknown>): Promise<OpOutcome>;
}

function op<P, Q, B>(name: OperationName, spec: OperationSpec<P, Q, B>): Operation {
  return {
    name,
    summary: spec.summary,
    description: spec.description,
    tag: spec.tag,
    roles: spec.roles,
    audit: spec.audit,
    params: spec.params,
    query: spec.query,
    body: spec.body && { schema: spec.body.schema, required: spec.body.required },
    responses: spec.responses,
    errors: spec.errors,
    parse(raw, ctx) {
      const params = validate(spec.params, raw.params ?? {}, "path");
      const query = validate(spec.query, raw.query ?? {}, "query");
      const body = spec.body ? spec.body.parse(raw.body, ctx) : (undefined as B);
      return { params, query, body };
    },
    run: (ctx, input) => spec.run(ctx, input as OpInput<P, Q, B>),
  };
}

/** A body parsed with its schema; errors are reported under `body.`. */
const schemaBody = <T>(schema: z.ZodType<T>) => (raw: unknown): T => validate(schema, raw, "body");
/** An optional body: absent is undefined, present is validated. */
const optionalBody = <T>(schema: z.ZodType<T>) => (raw: unknown): T | undefined => (raw === undefined ? undefined : validate(schema, raw, "body"));

// ── Shared pieces ──────────────────────────────────────────────────────────────────────────────

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** The lease holder id for this principal: `<principal>` or `<principal>:<instance>`. */
export function workerIdFor(principal: AuthPrincipal, instance?: string): string {
  return instance ? `${principal.name}:${instance}` : principal.name;
}

export function ownsWorkerId(principal: AuthPrincipal, workerId: string | undefined | null): boolean {
  return !!workerId && (workerId === principal.name || workerId.startsWith(`${principal.name}:`));
}

const isAdmin = (p: AuthPrincipal) => p.roles.includes("admin");

/** Admins see sensitive fields decrypted; everyone else sees the sealed envelopes. */
function jobFor(ctx: OpContext, job: Job): z.input<typeof S.JobView> {
  if (!isAdmin(ctx.principal)) return job;
  const { value, undecryptable } = openAll(job.payload, ctx.keyring);
  return { ...job, payload: value, ...(undecryptable.length > 0 && { undecryptableFields: undecryptable }) };
}

/** One enqueue item (generic or work order) → an engine request with its sensitive fields sealed. */
export function parseEnqueueItem(raw: unknown, where: string, keyring: Keyring | null): EnqueueRequestInput {
  const isWorkOrder = typeof raw === "object" && raw !== null && !Array.isArray(raw) && "work_order_id" in raw;
  try {
    if (isWorkOrder) {
      const { sensitive = [], ...body } = validate(S.WorkOrderEnqueueBody, raw, where);
      const { message: wo, options } = splitWorkOrderOptions(body);
      return workOrderRequest(sealFields(wo, ["payload", "metadata"], sensitive, keyring, where), options);
    }
    const { sensitive = [], ...req } = validate(S.GenericEnqueueBody, raw, where);
    return sealFields(req as EnqueueRequestInput, ["payload"], sensitive, keyring, where);
  } catch (e) {
    // sealPaths/assert name paths relative to the item; prefix them with where the item is
    if (e instanceof Error && "code" in e && e.code === "validation_error" && !e.message.startsWith(where)) {
      e.message = `${where}.${e.message}`;
    }
    throw e;
  }
}

/** When a request asks to run later (runAt or delayMs), the time in ms; else null. */
function dueAt(req: EnqueueRequestInput): number | null {
  if (req.runAt !== undefined) return Date.parse(req.runAt);
  return req.delayMs ? Date.now() + req.delayMs : null;
}

// Body parsers, built once (and outside the op() calls so TypeScript infers each body type).
const parseAckBody = schemaBody(S.AckBody);
const parseAnswerBody = schemaBody(S.AnswerBody);
const parseAskBody = schemaBody(S.AskBody);
const parseCancelBody = optionalBody(S.CancelBody);
const parseClaimBody = optionalBody(S.ClaimBody);
const parseCreateApiKeyBody = schemaBody(S.CreateApiKeyBody);
const parseDlqReplayBody = schemaBody(S.DlqReplayBody);
const parseScheduleBody = schemaBody(S.ScheduleBody);
const parseFailBody = schemaBody(S.FailBody);
const parseHeartbeatBody = schemaBody(S.HeartbeatBody);
const parseReleaseBody = schemaBody(S.ReleaseBody);
const parseEnqueueBody = (raw: unknown, ctx: { keyring: Keyring | null }): EnqueueRequestInput => parseEnqueueItem(raw, "body", ctx.keyring);
const parseEnqueueBatchBody = (raw: unknown, ctx: { keyring: Keyring | null }): EnqueueRequestInput[] =>
  validate(EnqueueBatchRuntime, raw, "body").jobs.map((j, i) => parseEnqueueItem(j, `body.jobs.${i}`, ctx.keyring));
const EnqueueBatchRuntime = z.object({ jobs: z.array(z.unknown()).min(1).max(1000) }).strict();

const PRODUCER_ROLES: readonly Role[] = ["producer", "admin"];
const READ_JOB_ROLES: readonly Role[] = ["producer", "controller", "admin"];
const WORKER_ROLES: readonly Role[] = ["worker"];
const CONTROLLER_ROLES: readonly Role[] = ["controller", "admin"];
const ADMIN_ROLES: readonly Role[] = ["admin"];
const ANY_ROLE: readonly Role[] = ["producer", "worker", "controller", "admin"];

const AUTH_ERRORS: readonly ErrorCode[] = ["unauthorized", "forbidden"];
const BODY_ERRORS: readonly ErrorCode[] = ["bad_request", "invalid_json", "validation_error", "payload_too_large", "unsupported_media_type"];
const LEASE_ERRORS: readonly ErrorCode[] = [...AUTH_ERRORS, ...BODY_ERRORS, "job_not_found", "lease_lost"];

/** Suspend and resume a worker (admin): the same operation but for the action. */
function workerControlOp(action: "suspend" | "resume"): Operation {
  const suspended = action === "suspend";
  return op(suspended ? "workerSuspend" : "workerResume", {
    summary: suspended ? "Suspend a worker (admin): it finishes what it holds and claims nothing new" : "Resume a suspended worker (admin)",
    tag: "admin",
    roles: ADMIN_ROLES,
    audit: true,
    params: S.WorkerIdParams,
    query: S.NoQuery,
    responses: { 200: { description: suspended ? "Suspended." : "Resumed.", schema: S.WorkerControlResponse } },
    errors: [...AUTH_ERRORS, "validation_error", "worker_not_found"],
    async run(ctx, { params }) {
      if (!ctx.workers || !(await ctx.workers[action](params.id))) throw new WorkerNotFoundError(params.id);
      return { status: 200, body: { workerId: params.id, suspended }, details: { workerId: params.id } };
    },
  });
}

// ── The operations, by route name ────────────────────────────────────────────────────────────

export const OPERATION_NAMES = [
  "enqueue", "enqueueBatch", "getJob", "listJobs", "cancelJob", "schedulesPut", "schedulesList", "schedulesDelete",
  "claim", "heartbeat", "ack", "fail", "release", "askQuestion", "getAnswer",
  "listRequests", "answerRequest",
  "dlqList", "dlqShow", "dlqReplay", "dlqPurgeOne", "dlqPurgeAll",
  "stats", "workerSuspend", "workerResume", "keysCreate", "keysList", "keysRevoke", "auditList", "openapi",
] as const;
export type OperationName = (typeof OPERATION_NAMES)[number];

export const OPERATIONS: Readonly<Record<OperationName, Operation>> = {
  enqueue: op("enqueue", {
    summary: "Enqueue one job (a generic job or a seed WorkOrderMessage)",
    description:
      "Idempotent on the job id (a work order's work_order_id): enqueueing it again returns the existing job with created=false and 200. Fields listed in `sensitive` are encrypted before they reach Redis.",
    tag: "producers",
    roles: PRODUCER_ROLES,
    audit: true,
    params: S.NoParams,
    query: S.NoQuery,
    body: { schema: S.EnqueueBody, required: true, parse: parseEnqueueBody },
    responses: {
      201: { description: "Enqueued.", schema: S.EnqueueResponse },
      200: { description: "Already existed (idempotent enqueue): unchanged.", schema: S.EnqueueResponse },
    },
    errors: [...AUTH_ERRORS, ...BODY_ERRORS, "unknown_queue", "encryption_unavailable"],
    async run(ctx, { body }) {
      const r = await ctx.engine.enqueue(body);
      if (r.created) await ctx.hook(() => ctx.hooks.afterEnqueue?.([{ ...r, runAt: dueAt(body) }]));
      return { status: r.created ? 201 : 200, body: r, jobId: r.id, details: { queue: r.queue, created: r.created } };
    },
  }),

  enqueueBatch: op("enqueueBatch", {
    summary: "Enqueue up to 1000 jobs in one atomic step",
    description: "All jobs are validated before any is written; the batch is one Lua script. Each item is a generic job or a work order.",
    tag: "producers",
    roles: PRODUCER_ROLES,
    audit: true,
    params: S.NoParams,
    query: S.NoQuery,
    body: {
      schema: S.EnqueueBatchBody,
      required: true,
      parse: parseEnqueueBatchBody,
    },
    responses: { 201: { description: "Enqueued (each result says whether it was created or already existed).", schema: S.EnqueueBatchResponse } },
    errors: [...AUTH_ERRORS, ...BODY_ERRORS, "unknown_queue", "encryption_unavailable"],
    async run(ctx, { body }) {
      const jobs = await ctx.engine.enqueueBatch(body);
      const created = jobs.flatMap((j, i) => (j.created ? [{ ...j, runAt: dueAt(body[i]!) }] : []));
      if (created.length > 0) await ctx.hook(() => ctx.hooks.afterEnqueue?.(created));
      return { status: 201, body: { jobs }, details: { count: jobs.length, created: created.length, ids: jobs.slice(0, 50).map((j) => j.id) } };
    },
  }),

  getJob: op("getJob", {
    summary: "A job's status and record",
    description: "Status, attempts, timestamps, worker, lease, progress, result or error, history. Sensitive fields are decrypted for admins only.",
    tag: "producers",
    roles: READ_JOB_ROLES,
    audit: false,
    params: S.JobIdParams,
    query: S.NoQuery,
    responses: { 200: { description: "The job.", schema: S.JobView } },
    errors: [...AUTH_ERRORS, "validation_error", "job_not_found"],
    async run(ctx, { params }) {
      return { status: 200, body: jobFor(ctx, await ctx.engine.getJob(params.id)) };
    },
  }),

  listJobs: op("listJobs", {
    summary: "List a queue's jobs in one state (paginated)",
    description:
      "pending (the most restricted level first, oldest first), active (leased: active or waiting), scheduled (delayed starts and retries in backoff, soonest first, with their due time), deferred, completed and failed (within their TTLs, newest first). Each page is read from that state's index; a row is a summary (getJob for the payload, result and history).",
    tag: "producers",
    roles: READ_JOB_ROLES,
    audit: false,
    params: S.NoParams,
    query: S.ListJobsQuery,
    responses: { 200: { description: "A page.", schema: S.JobListResponse } },
    errors: [...AUTH_ERRORS, "validation_error", "unknown_queue"],
    async run(ctx, { query }) {
      const page = await ctx.engine.listJobs({ queue: query.queue ?? "default", state: query.state, ...(query.limit !== undefined && { limit: query.limit }), ...(query.cursor !== undefined && { cursor: query.cursor }) });
      return { status: 200, body: page };
    },
  }),

  schedulesPut: op("schedulesPut", {
    summary: "Create or replace a recurring schedule (cron, UTC)",
    description:
      "At each run the schedule enqueues its job with the id <name>:<run ms> (so a run is enqueued once). Runs missed while maintenance was not running are not replayed one by one: one fires late, then the schedule continues from now. 201 when created, 200 when it replaced one of that name (its next run is recomputed from now).",
    tag: "producers",
    roles: PRODUCER_ROLES,
    audit: true,
    params: S.NoParams,
    query: S.NoQuery,
    body: { schema: S.ScheduleBody, required: true, parse: parseScheduleBody },
    responses: { 201: { description: "Created.", schema: S.SchedulePutResponse }, 200: { description: "Replaced.", schema: S.SchedulePutResponse } },
    errors: [...AUTH_ERRORS, ...BODY_ERRORS, "unknown_queue", "encryption_unavailable"],
    async run(ctx, { body }) {
      const { sensitive = [], ...input } = body;
      const r = await ctx.engine.putSchedule({ ...input, job: sealFields(input.job, ["payload"], sensitive, ctx.keyring, "body.job") });
      return { status: r.created ? 201 : 200, body: r, details: { name: r.schedule.name, cron: r.schedule.cron } };
    },
  }),

  schedulesList: op("schedulesList", {
    summary: "List recurring schedules",
    tag: "producers",
    roles: READ_JOB_ROLES,
    audit: false,
    params: S.NoParams,
    query: S.NoQuery,
    responses: { 200: { description: "Every schedule, by name, with its next and last run.", schema: S.ScheduleListResponse } },
    errors: AUTH_ERRORS,
    async run(ctx) {
      return { status: 200, body: { schedules: await ctx.engine.listSchedules() } };
    },
  }),

  schedulesDelete: op("schedulesDelete", {
    summary: "Delete a recurring schedule (the jobs it enqueued stay)",
    tag: "producers",
    roles: PRODUCER_ROLES,
    audit: true,
    params: S.ScheduleNameParams,
    query: S.NoQuery,
    responses: { 200: { description: "Deleted.", schema: S.ScheduleDeleteResponse } },
    errors: [...AUTH_ERRORS, "validation_error", "schedule_not_found"],
    async run(ctx, { params }) {
      await ctx.engine.deleteSchedule(params.name);
      return { status: 200, body: { name: params.name, deleted: true }, details: { name: params.name } };
    },
  }),

  cancelJob: op("cancelJob", {
    summary: "Cancel a job that has not finished",
    description: "A leased job's worker loses its lease (its next heartbeat/ack gets lease_lost).",
    tag: "producers",
    roles: PRODUCER_ROLES,
    audit: true,
    params: S.JobIdParams,
    query: S.NoQuery,
    body: { schema: S.CancelBody, required: false, parse: parseCancelBody },
    responses: { 200: { description: "Cancelled.", schema: S.CancelResponse } },
    errors: [...AUTH_ERRORS, ...BODY_ERRORS, "job_not_found", "not_cancellable"],
    async run(ctx, { params, body }) {
      const r = await ctx.engine.cancel(params.id, body?.reason ?? `cancelled by ${ctx.principal.name}`);
      return { status: 200, body: { id: params.id, status: "cancelled", previous: r.previous }, jobId: params.id };
    },
  }),

  claim: op("claim", {
    summary: "Lease the next job (non-blocking; optional short wait)",
    description:
      "Strict priority order across queues; only jobs at permission levels the worker key carries. With waitMs, polls for up to that long (≤ 5 s). Sensitive payload fields are decrypted for the lease holder.",
    tag: "workers",
    roles: WORKER_ROLES,
    audit: true,
    params: S.NoParams,
    query: S.NoQuery,
    body: { schema: S.ClaimBody, required: false, parse: parseClaimBody },
    responses: { 200: { description: "A job and its lease, or status empty.", schema: S.ClaimResponse } },
    errors: [...AUTH_ERRORS, ...BODY_ERRORS, "unknown_queue"],
    async run(ctx, { body }) {
      const allowed = ctx.principal.permissionLevels;
      const levels = body?.permissionLevels ?? allowed;
      const denied = levels.filter((l) => !allowed.includes(l));
      if (denied.length > 0 || levels.length === 0) {
        throw new ForbiddenError(`this key may not claim ${denied.join(", ") || "any"} jobs (allowed: ${allowed.join(", ") || "none"})`, { allowed, denied });
      }
      const workerId = workerIdFor(ctx.principal, body?.workerId);
      const waitMs = body?.waitMs ?? 0;
      const started = Date.now();
      const interval = 500;
      for (let attempt = 0; attempt <= Math.ceil(waitMs / interval); attempt++) {
        const r = await ctx.engine.claim({ workerId, queues: body?.queues, permissionLevels: levels, leaseMs: body?.leaseMs });
        if (r.status === "claimed") {
          const { value, undecryptable } = openAll(r.job.payload, ctx.keyring);
          return {
            status: 200,
            body: {
              status: "claimed",
              workerId,
              job: { ...r.job, payload: value, ...(undecryptable.length > 0 && { undecryptableFields: undecryptable }) },
              lease: { token: r.lease.token, expiresAt: iso(r.lease.expiresAt) },
            },
            jobId: r.job.id,
            details: { workerId, token: r.lease.token, attempt: r.job.attempt },
          };
        }
        const left = waitMs - (Date.now() - started);
        if (left <= 0) return { status: 200, body: { status: "empty", nextTimerAt: iso(r.nextTimerAt) }, audit: false };
        await ctx.sleep(Math.min(interval, left));
      }
      return { status: 200, body: { status: "empty", nextTimerAt: null }, audit: false };
    },
  }),

  heartbeat: op("heartbeat", {
    summary: "Extend the lease (and record progress)",
    tag: "workers",
    roles: WORKER_ROLES,
    audit: true,
    params: S.JobIdParams,
    query: S.NoQuery,
    body: { schema: S.HeartbeatBody, required: true, parse: parseHeartbeatBody },
    responses: { 200: { description: "Lease extended.", schema: S.HeartbeatResponse } },
    errors: LEASE_ERRORS,
    async run(ctx, { params, body }) {
      const r = await ctx.engine.heartbeat(params.id, body.token, { extendMs: body.extendMs, progress: body.progress, holder: ctx.principal.name });
      return { status: 200, body: { id: params.id, leaseExpiresAt: iso(r.leaseExpiresAt) }, jobId: params.id };
    },
  }),

  ack: op("ack", {
    summary: "Complete the job with a result",
    tag: "workers",
    roles: WORKER_ROLES,
    audit: true,
    params: S.JobIdParams,
    query: S.NoQuery,
    body: { schema: S.AckBody, required: true, parse: parseAckBody },
    responses: { 200: { description: "Completed.", schema: S.AckResponse } },
    errors: LEASE_ERRORS,
    async run(ctx, { params, body }) {
      const r = await ctx.engine.ack(params.id, body.token, body.result ?? null, { holder: ctx.principal.name });
      await ctx.hook(() => ctx.hooks.afterAck?.({ jobId: params.id, ack: r }));
      return { status: 200, body: { id: params.id, status: "completed", durationMs: r.durationMs }, jobId: params.id };
    },
  }),

  fail: op("fail", {
    summary: "Fail the current attempt (retried with backoff, or dead-lettered)",
    description: "retryable=false (or no attempts left) sends the job to the dead-letter queue.",
    tag: "workers",
    roles: WORKER_ROLES,
    audit: true,
    params: S.JobIdParams,
    query: S.NoQuery,
    body: { schema: S.FailBody, required: true, parse: parseFailBody },
    responses: { 200: { description: "The attempt's outcome.", schema: S.FailResponse } },
    errors: LEASE_ERRORS,
    async run(ctx, { params, body }) {
      const error = { ...body.error, stack: body.error.stack ?? null };
      const r = await ctx.engine.fail(params.id, body.token, { error, retryable: body.retryable, retryAfterMs: body.retryAfterMs, holder: ctx.principal.name });
      await ctx.hook(() => ctx.hooks.afterFail?.({ jobId: params.id, fail: r }));
      return { status: 200, body: { id: params.id, outcome: r.outcome, nextAttemptAt: iso(r.nextAttemptAt) }, jobId: params.id, details: { outcome: r.outcome } };
    },
  }),

  release: op("release", {
    summary: "Give the job back without counting the attempt",
    tag: "workers",
    roles: WORKER_ROLES,
    audit: true,
    params: S.JobIdParams,
    query: S.NoQuery,
    body: { schema: S.ReleaseBody, required: true, parse: parseReleaseBody },
    responses: { 200: { description: "Released.", schema: S.ReleaseResponse } },
    errors: LEASE_ERRORS,
    async run(ctx, { params, body }) {
      const r = await ctx.engine.release(params.id, body.token, { delayMs: body.delayMs, holder: ctx.principal.name });
      return { status: 200, body: { id: params.id, status: r.status }, jobId: params.id };
    },
  }),

  askQuestion: op("askQuestion", {
    summary: "Ask the controller a question about the leased job",
    description:
      "clarification / approval / question, with context, threaded by conversation_id and parent_message_id. The job is `waiting` until answered; the request expires after ttl_seconds (default WORKSTREAM_REQUEST_TTL_SECONDS, 30 min).",
    tag: "messages",
    roles: WORKER_ROLES,
    audit: true,
    params: S.JobIdParams,
    query: S.NoQuery,
    body: { schema: S.AskBody, required: true, parse: parseAskBody },
    responses: { 201: { description: "The WorkerRequestMessage.", schema: S.AnswerView.shape.request } },
    errors: LEASE_ERRORS,
    async run(ctx, { params, body }) {
      const req = await ctx.engine.askQuestion(params.id, body.token, {
        requestType: body.request_type,
        message: body.message,
        context: body.context ?? {},
        conversationId: body.conversation_id,
        parentMessageId: body.parent_message_id ?? null,
        ...(body.ttl_seconds !== undefined && { ttlMs: body.ttl_seconds * 1000 }),
        id: body.id,
      }, { holder: ctx.principal.name });
      return { status: 201, body: req, jobId: params.id, details: { requestId: req.id, requestType: req.request_type } };
    },
  }),

  getAnswer: op("getAnswer", {
    summary: "The worker fetches the answer to its request (long-poll)",
    description: "status open / answered / expired. With waitMs, waits (≤ 20 s) while the request is open. Only the asking worker's principal may read it.",
    tag: "messages",
    roles: WORKER_ROLES,
    audit: false,
    params: S.RequestIdParams,
    query: S.GetAnswerQuery,
    responses: { 200: { description: "The request, its status and the response once answered.", schema: S.AnswerView } },
    errors: [...AUTH_ERRORS, "validation_error", "request_not_found"],
    async run(ctx, { params, query }) {
      const first = await ctx.engine.getAnswer(params.requestId);
      if (!ownsWorkerId(ctx.principal, first.request.worker_id)) throw new RequestNotFoundError(params.requestId);
      const view = first.status === "open" && query.waitMs ? await ctx.engine.waitForAnswer(params.requestId, { timeoutMs: query.waitMs }) : first;
      return { status: 200, body: view };
    },
  }),

  listRequests: op("listRequests", {
    summary: "List worker requests (default: open)",
    tag: "messages",
    roles: CONTROLLER_ROLES,
    audit: false,
    params: S.NoParams,
    query: S.ListRequestsQuery,
    responses: { 200: { description: "Requests, oldest expiry first for open ones.", schema: S.ListRequestsResponse } },
    errors: [...AUTH_ERRORS, "validation_error"],
    async run(ctx, { query }) {
      const requests = await ctx.engine.listRequests({ status: query.status ?? "open", limit: query.limit ?? 50 });
      return { status: 200, body: { requests } };
    },
  }),

  answerRequest: op("answerRequest", {
    summary: "Answer a worker's request",
    description: "answer / instruction / approval / rejection, generated_by human or automated. The waiting worker is woken.",
    tag: "messages",
    roles: CONTROLLER_ROLES,
    audit: true,
    params: S.RequestIdParams,
    query: S.NoQuery,
    body: { schema: S.AnswerBody, required: true, parse: parseAnswerBody },
    responses: { 201: { description: "The ControllerResponseMessage.", schema: S.AnswerView.shape.response.unwrap() } },
    errors: [...AUTH_ERRORS, ...BODY_ERRORS, "request_not_found", "request_expired", "already_answered"],
    async run(ctx, { params, body }) {
      const res = await ctx.engine.answerRequest(params.requestId, {
        responseType: body.response_type,
        message: body.message,
        instructions: body.instructions ?? [],
        generatedBy: body.generated_by,
        responderId: body.responder_id ?? (body.generated_by === "human" ? ctx.principal.name : null),
      });
      return { status: 201, body: res, jobId: res.work_order_id, details: { requestId: params.requestId, responseType: res.response_type } };
    },
  }),

  dlqList: op("dlqList", {
    summary: "List dead-lettered jobs (filter by queue, reason, error text or fingerprint, time; paginated)",
    tag: "dlq",
    roles: CONTROLLER_ROLES,
    audit: false,
    params: S.NoParams,
    query: S.DlqListQuery,
    responses: { 200: { description: "A page, newest first.", schema: S.DlqListResponse } },
    errors: [...AUTH_ERRORS, "validation_error", "unknown_queue"],
    async run(ctx, { query }) {
      const page = await ctx.engine.dlqList({
        queues: query.queue,
        reason: query.reason,
        errorContains: query.error,
        fingerprint: query.fingerprint,
        since: query.since,
        until: query.until,
        limit: query.limit,
        cursor: query.cursor,
      });
      return { status: 200, body: page };
    },
  }),

  dlqShow: op("dlqShow", {
    summary: "Inspect one dead-lettered job (payload, error, stack, attempts, history)",
    tag: "dlq",
    roles: CONTROLLER_ROLES,
    audit: false,
    params: S.JobIdParams,
    query: S.NoQuery,
    responses: { 200: { description: "The job.", schema: S.JobView } },
    errors: [...AUTH_ERRORS, "validation_error", "job_not_found", "not_in_dlq"],
    async run(ctx, { params }) {
      return { status: 200, body: jobFor(ctx, await ctx.engine.dlqGet(params.id)) };
    },
  }),

  dlqReplay: op("dlqReplay", {
    summary: "Replay dead-lettered jobs to their origin queue (idempotent)",
    description: "One or many ids; with exactly one id, optionally an edited payload (sensitive fields re-sealed). Jobs not in the DLQ are reported, not errors.",
    tag: "dlq",
    roles: CONTROLLER_ROLES,
    audit: true,
    params: S.NoParams,
    query: S.NoQuery,
    body: { schema: S.DlqReplayBody, required: true, parse: parseDlqReplayBody },
    responses: { 200: { description: "Per-id outcome.", schema: S.DlqReplayResponse } },
    errors: [...AUTH_ERRORS, ...BODY_ERRORS, "encryption_unavailable"],
    async run(ctx, { body }) {
      let opts: { payload?: unknown } = {};
      if (body.payload !== undefined) {
        const current = body.sensitive === undefined ? await ctx.engine.getJob(body.ids[0]!).catch(() => null) : null;
        opts = { payload: sealReplayPayload(current?.payload, body.payload, body.sensitive, ctx.keyring, "body") };
      }
      const results = await ctx.engine.dlqReplay(body.ids, opts);
      return {
        status: 200,
        body: { results },
        jobId: body.ids.length === 1 ? body.ids[0]! : null,
        details: { results: results.slice(0, 50), edited: body.payload !== undefined },
      };
    },
  }),

  dlqPurgeOne: op("dlqPurgeOne", {
    summary: "Delete one dead-lettered job for good (admin)",
    tag: "dlq",
    roles: ADMIN_ROLES,
    audit: true,
    params: S.JobIdParams,
    query: S.NoQuery,
    responses: { 200: { description: "Purged.", schema: S.DlqPurgeOneResponse } },
    errors: [...AUTH_ERRORS, "validation_error", "job_not_found", "not_in_dlq"],
    async run(ctx, { params }) {
      await ctx.engine.dlqPurge(params.id);
      return { status: 200, body: { id: params.id, purged: true }, jobId: params.id };
    },
  }),

  dlqPurgeAll: op("dlqPurgeAll", {
    summary: "Delete every dead-lettered job, of one queue or all (admin)",
    tag: "dlq",
    roles: ADMIN_ROLES,
    audit: true,
    params: S.NoParams,
    query: S.DlqPurgeAllQuery,
    responses: { 200: { description: "How many were purged.", schema: S.DlqPurgeAllResponse } },
    errors: [...AUTH_ERRORS, "validation_error", "unknown_queue"],
    async run(ctx, { query }) {
      const r = await ctx.engine.dlqPurgeAll(query.queue);
      return { status: 200, body: r, details: { queue: query.queue ?? "*", purged: r.purged } };
    },
  }),

  stats: op("stats", {
    summary: "Queue and worker statistics",
    description: "Per queue: pending, started, finished, failed, deferred, scheduled (the seed's names), DLQ depth, age of the oldest pending job, lifetime totals.",
    tag: "observability",
    roles: ANY_ROLE,
    audit: false,
    params: S.NoParams,
    query: S.StatsQuery,
    responses: { 200: { description: "Statistics.", schema: S.StatsResponse } },
    errors: [...AUTH_ERRORS, "validation_error", "unknown_queue"],
    async run(ctx, { query }) {
      const stats = await ctx.engine.stats(query.queue);
      const queues = Object.fromEntries(stats.map(({ queue, ...s }) => [queue, s]));
      const workers = ctx.workers ? await ctx.workers.stats() : null;
      return { status: 200, body: { queues, workers } };
    },
  }),

  workerSuspend: workerControlOp("suspend"),
  workerResume: workerControlOp("resume"),

  keysCreate: op("keysCreate", {
    summary: "Create an API key (admin)",
    description: "The response holds the key (ws_<id>_<secret>) — the only time the secret is visible; Redis keeps its SHA-256.",
    tag: "admin",
    roles: ADMIN_ROLES,
    audit: true,
    params: S.NoParams,
    query: S.NoQuery,
    body: { schema: S.CreateApiKeyBody, required: true, parse: parseCreateApiKeyBody },
    responses: { 201: { description: "The new key.", schema: S.KeysCreateResponse } },
    errors: [...AUTH_ERRORS, ...BODY_ERRORS],
    async run(ctx, { body }) {
      const created = await ctx.keys.create(body);
      const { key: _secret, ...info } = created;
      return { status: 201, body: created, details: { ...info } };
    },
  }),

  keysList: op("keysList", {
    summary: "List API keys (admin; never their secrets)",
    tag: "admin",
    roles: ADMIN_ROLES,
    audit: false,
    params: S.NoParams,
    query: S.KeysListQuery,
    responses: { 200: { description: "Keys, newest first.", schema: S.KeysListResponse } },
    errors: [...AUTH_ERRORS, "validation_error"],
    async run(ctx, { query }) {
      const keys = await ctx.keys.list({ principal: query.principal, includeRevoked: query.includeRevoked, limit: query.limit });
      return { status: 200, body: { keys } };
    },
  }),

  keysRevoke: op("keysRevoke", {
    summary: "Revoke an API key (admin; idempotent)",
    tag: "admin",
    roles: ADMIN_ROLES,
    audit: true,
    params: S.KeyIdParams,
    query: S.NoQuery,
    responses: { 200: { description: "The revoked key.", schema: S.ApiKeyView } },
    errors: [...AUTH_ERRORS, "validation_error", "api_key_not_found"],
    async run(ctx, { params }) {
      const info = await ctx.keys.revoke(params.id);
      return { status: 200, body: info, details: { keyId: params.id, principal: info.principal } };
    },
  }),

  auditList: op("auditList", {
    summary: "Read the audit log (admin)",
    tag: "admin",
    roles: ADMIN_ROLES,
    audit: false,
    params: S.NoParams,
    query: S.AuditQueryParams,
    responses: { 200: { description: "Entries, newest first.", schema: S.AuditListResponse } },
    errors: [...AUTH_ERRORS, "validation_error"],
    async run(ctx, { query }) {
      return { status: 200, body: await ctx.audit.list(query) };
    },
  }),

  openapi: op("openapi", {
    summary: "This API's OpenAPI 3.1 document",
    tag: "observability",
    roles: ANY_ROLE,
    audit: false,
    params: S.NoParams,
    query: S.NoQuery,
    responses: { 200: { description: "The document.", schema: z.record(z.string(), z.unknown()) } },
    errors: AUTH_ERRORS,
    async run(ctx) {
      return { status: 200, body: ctx.openapi() };
    },
  }),
};

