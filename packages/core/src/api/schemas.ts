/**
 * The HTTP API's wire schemas: path parameters, query strings, bodies and responses. The same
 * schemas validate requests at run time and generate the OpenAPI document (openapi.ts).
 * Job operations use camelCase like EnqueueRequest; worker ↔ controller messages keep the seed's
 * snake_case field names (request_type, conversation_id, generated_by, …).
 */
import { z } from "zod";
import { EnqueueRequest, ScheduledJobTemplate, WorkOrderOptions } from "../enqueue-request.ts";
import { ScheduleName } from "../schedules.ts";
import { JobError, JobStatus } from "../job.ts";
import { ListableState } from "../jobs-list.ts";
import {
  ControllerResponseMessage,
  GeneratedBy,
  Id,
  PermissionLevel,
  Priority,
  RequestType,
  ResponseType,
  WorkerRequestMessage,
  WorkOrderMessage,
} from "../messages.ts";
import { QueueName } from "../queues.ts";
import { CreateApiKeyInput, KeyId, PrincipalName, Role } from "../security/api-keys.ts";
import { SENSITIVE_PATH } from "../security/encryption.ts";

const IsoDate = z.iso.datetime({ offset: true });
const JsonObject = z.record(z.string(), z.unknown());
const Token = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).describe("The lease token (fencing token) from the claim.");

// ── Query-string helpers (API Gateway gives every value as a string; repeats are comma-joined) ──
const qInt = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d{1,15}$/, "must be a whole number")
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));
const qBool = z.enum(["true", "false"]).transform((v) => v === "true");
const qList = (item: z.ZodString, max: number) =>
  z
    .string()
    .max(4096)
    .transform((s) => s.split(",").map((x) => x.trim()).filter(Boolean))
    .pipe(z.array(item).min(1).max(max));
/** A time as ISO-8601 or epoch milliseconds. */
const qTime = z
  .string()
  .max(64)
  .transform((s, ctx) => {
    const ms = /^\d{1,15}$/.test(s) ? Number(s) : Date.parse(s);
    if (!Number.isFinite(ms) || ms < 0) {
      ctx.addIssue({ code: "custom", message: "must be an ISO-8601 time or epoch milliseconds" });
      return z.NEVER;
    }
    return ms;
  });

export const NoParams = z.object({}).strict();
export const NoQuery = z.object({}).strict();
export const JobIdParams = z.object({ id: Id }).strict();
export const RequestIdParams = z.object({ requestId: Id }).strict();
export const KeyIdParams = z.object({ id: KeyId }).strict();

// ── Producers ─────────────────────────────────────────────────────────────────────────────────
export const SensitivePaths = z
  .array(z.string().max(512).regex(SENSITIVE_PATH, "paths are dot-separated field names or indexes, e.g. payload.api_token"))
  .max(64)
  .refine((p) => new Set(p).size === p.length, "paths must not repeat")
  .describe("JSON paths into this body whose values are encrypted (AES-256-GCM) before they reach Redis, e.g. [\"payload.api_token\"].");

export const GenericEnqueueBody = EnqueueRequest.extend({ sensitive: SensitivePaths.optional() }).describe(
  "A generic job: any JSON payload with a type name. `sensitive` paths must start with `payload.`.",
);
export const WorkOrderEnqueueBody = WorkOrderMessage.extend({ sensitive: SensitivePaths.optional(), ...WorkOrderOptions.shape })
  .strict()
  .describe(
    "A seed WorkOrderMessage: its work_order_id is the job id (idempotent), its priority picks the queue. Besides the message's fields it may carry the delivery options of a generic job (queue, retry, delayMs, runAt, ttlSeconds, callbackUrl, dependsOn), which are not part of the message the worker receives. `sensitive` paths must start with `payload.` or `metadata.`. Unknown fields are refused.",
  );
/** For the document; at run time the body is routed by the presence of `work_order_id` (see parseEnqueueBody). */
export const EnqueueBody = z.union([WorkOrderEnqueueBody, GenericEnqueueBody]);
export const EnqueueBatchBody = z
  .object({ jobs: z.array(EnqueueBody).min(1).max(1000).describe("1-1000 jobs, each a generic job or a work order; all are validated before any is written.") })
  .strict();
export const EnqueueResponse = z.object({ id: Id, queue: z.string(), status: JobStatus, created: z.boolean().describe("False when the id already existed: nothing was changed.") });
export const EnqueueBatchResponse = z.object({ jobs: z.array(EnqueueResponse) });
export const CancelBody = z.object({ reason: z.string().min(1).max(500).optional() }).strict();
export const CancelResponse = z.object({ id: Id, status: z.literal("cancelled"), previous: JobStatus });

export const HistoryEntryView = z.object({
  at: IsoDate,
  status: z.string(),
  attempt: z.number().optional(),
  worker: z.string().optional(),
  error: z.string().optional(),
  reason: z.string().optional(),
});
export const JobView = z.object({
  id: Id,
  queue: z.string(),
  type: z.string(),
  priority: Priority,
  permissionLevel: PermissionLevel,
  status: JobStatus,
  payload: z.unknown().describe("Sensitive fields appear as sealed envelopes {\"$ws_enc\":\"v1\",kid,iv,ct} unless the caller is an admin."),
  attempts: z.number().int(),
  maxAttempts: z.number().int(),
  timeoutMs: z.number().int(),
  createdAt: z.string(),
  enqueuedAt: IsoDate,
  readyAt: IsoDate.nullable(),
  startedAt: IsoDate.nullable(),
  finishedAt: IsoDate.nullable(),
  nextAttemptAt: IsoDate.nullable(),
  worker: z.string().nullable(),
  leaseToken: z.number().int(),
  leaseExpiresAt: IsoDate.nullable(),
  progress: z.unknown(),
  result: z.unknown(),
  error: JobError.nullable(),
  deadLetter: z.object({ at: IsoDate, reason: z.string() }).nullable(),
  cancelReason: z.string().nullable(),
  callbackUrl: z.string().nullable(),
  history: z.array(HistoryEntryView),
  expiresAt: IsoDate.nullable(),
  undecryptableFields: z.array(z.string()).optional().describe("Paths of sealed fields this deployment could not decrypt (admins only)."),
});

// ── Workers ───────────────────────────────────────────────────────────────────────────────────
export const WorkerInstance = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9._\-]+$/, "worker ids may contain letters, digits and . _ - only");
export const ClaimBody = z
  .object({
    workerId: WorkerInstance.optional().describe("This worker process's id; the lease holder is `<key principal>:<workerId>` (or the principal alone). Use one per process."),
    queues: z.array(QueueName).min(1).max(50).optional().describe("Queues to take work from, always in strict priority order. Default: all."),
    permissionLevels: z.array(PermissionLevel).min(1).max(3).optional().describe("Levels to claim; must be within the key's levels. Default: all of the key's levels."),
    leaseMs: z.number().int().min(1000).max(7 * 86_400_000).optional().describe("Lease length; default the job's timeout."),
    waitMs: z.number().int().min(0).max(5000).default(0).describe("When nothing is ready, keep trying (short polling) for up to this long."),
  })
  .strict();
export const ClaimedJobView = z.object({
  id: Id,
  queue: z.string(),
  type: z.string(),
  priority: Priority,
  permissionLevel: PermissionLevel,
  payload: z.unknown().describe("Decrypted for the lease holder."),
  attempt: z.number().int(),
  maxAttempts: z.number().int(),
  timeoutMs: z.number().int(),
  createdAt: z.string(),
  lastError: z.unknown(),
  undecryptableFields: z.array(z.string()).optional(),
});
export const ClaimResponse = z.discriminatedUnion("status", [
  z.object({
    status: z.literal("claimed"),
    workerId: z.string().describe("The lease holder's id as recorded on the job."),
    job: ClaimedJobView,
    lease: z.object({ token: z.number().int(), expiresAt: IsoDate }),
  }),
  z.object({ status: z.literal("empty"), nextTimerAt: IsoDate.nullable() }),
]);
export const HeartbeatBody = z
  .object({
    token: Token,
    extendMs: z.number().int().min(0).max(7 * 86_400_000).optional().describe("New lease length from now; default the length given at claim."),
    progress: z.unknown().optional().describe("Any JSON: recorded on the job."),
  })
  .strict();
export const HeartbeatResponse = z.object({ id: Id, leaseExpiresAt: IsoDate });
export const AckBody = z.object({ token: Token, result: z.unknown().optional().describe("Any JSON; kept for the queue's result TTL.") }).strict();
export const AckResponse = z.object({ id: Id, status: z.literal("completed"), durationMs: z.number() });
export const FailBody = z
  .object({
    token: Token,
    error: z
      .object({
        name: z.string().min(1).max(256).optional(),
        message: z.string().max(64 * 1024),
        stack: z.string().max(64 * 1024).nullable().optional(),
        code: z.string().max(128).optional(),
      })
      .strict(),
    retryable: z
      .boolean()
      .optional()
      .describe(
        'True retries while attempts remain; false sends the job straight to the dead-letter queue. Default: classified by the error (permanent: the names ValueError, TypeError, KeyError, ValidationError…, and messages saying "invalid", "not found" or "validation"; everything else is retried).',
      ),
    retryAfterMs: z.number().int().min(0).max(7 * 86_400_000).optional().describe("Retry after this delay instead of the job's backoff."),
  })
  .strict();
export const FailResponse = z.object({ id: Id, outcome: z.enum(["pending", "retrying", "dead_lettered"]), nextAttemptAt: IsoDate.nullable() });
export const ReleaseBody = z.object({ token: Token, delayMs: z.number().int().min(0).max(30 * 86_400_000).optional() }).strict();
export const ReleaseResponse = z.object({ id: Id, status: z.enum(["pending", "scheduled"]) });

// ── Worker ↔ controller ─────────────────────────────────────────────────────────────────────────
export const AskBody = z
  .object({
    token: Token,
    request_type: RequestType,
    message: z.string().min(1).max(100_000),
    context: JsonObject.optional(),
    conversation_id: Id.optional().describe("Thread id; a new thread (= the request id) when absent."),
    parent_message_id: Id.nullable().optional(),
    ttl_seconds: z.number().int().min(10).max(86_400).optional().describe("The request expires after this long (default: WORKSTREAM_REQUEST_TTL_SECONDS, 30 min as in the seed)."),
    id: Id.optional().describe("Request id, for idempotent retries; generated when absent."),
  })
  .strict();
export const RequestStatus = z.enum(["open", "answered", "expired"]);
export const GetAnswerQuery = z
  .object({ waitMs: qInt(0, 20_000).optional().describe("Long-poll: wait up to this long (ms, ≤ 20000) while the request is open.") })
  .strict();
export const AnswerView = z.object({ status: RequestStatus, request: WorkerRequestMessage, response: ControllerResponseMessage.nullable() });
export const ListRequestsQuery = z.object({ status: RequestStatus.optional(), limit: qInt(1, 100).optional() }).strict();
export const ListRequestsResponse = z.object({ requests: z.array(WorkerRequestMessage.extend({ status: RequestStatus })) });
export const AnswerBody = z
  .object({
    response_type: ResponseType,
    message: z.string().max(100_000),
    instructions: z.array(z.string().max(10_000)).max(1000).optional(),
    generated_by: GeneratedBy,
    responder_id: z.string().min(1).max(256).nullable().optional().describe("Who answered; defaults to the key's principal for human answers."),
  })
  .strict();

// ── Dead-letter triage ──────────────────────────────────────────────────────────────────────────
export const ScheduleBody = z
  .object({
    name: ScheduleName.describe("Letters, digits, . _ - (≤ 64). Each run's job id is <name>:<run ms>."),
    cron: z.string().min(1).max(200).describe("Five fields in UTC (minute hour day-of-month month day-of-week), or @hourly, @daily, @weekly, @monthly, @yearly."),
    job: ScheduledJobTemplate.describe("The job each run enqueues: a job request without id, delayMs, runAt, createdAt or dependsOn."),
    sensitive: SensitivePaths.optional().describe("Paths into the job (`payload.…`) to encrypt once, when the schedule is saved: stored and enqueued sealed."),
  })
  .strict();
export const ScheduleView = z.object({
  name: z.string(),
  cron: z.string(),
  job: z.record(z.string(), z.unknown()),
  createdAt: IsoDate,
  nextRunAt: IsoDate,
  lastRunAt: IsoDate.nullable(),
  lastJobId: z.string().nullable(),
  runs: z.number().int(),
});
export const SchedulePutResponse = z.object({ schedule: ScheduleView, created: z.boolean() });
export const ScheduleListResponse = z.object({ schedules: z.array(ScheduleView) });
export const ScheduleNameParams = z.object({ name: ScheduleName }).strict();
export const ScheduleDeleteResponse = z.object({ name: z.string(), deleted: z.literal(true) });

export const ListJobsQuery = z
  .object({
    queue: QueueName.optional().describe("Default: default."),
    state: ListableState.describe("pending, active (leased), scheduled (delayed or retrying), deferred, completed or failed."),
    limit: qInt(1, 100).optional(),
    cursor: z.string().min(1).max(300).optional(),
  })
  .strict();
export const JobSummaryView = z.object({
  id: Id,
  queue: z.string(),
  status: JobStatus,
  type: z.string(),
  priority: Priority,
  permissionLevel: PermissionLevel,
  attempts: z.number().int(),
  maxAttempts: z.number().int(),
  createdAt: z.string().nullable(),
  enqueuedAt: IsoDate.nullable(),
  startedAt: IsoDate.nullable(),
  finishedAt: IsoDate.nullable(),
  runAt: IsoDate.nullable().describe("When a scheduled or retrying job is due."),
  worker: z.string().nullable(),
  error: z.object({ name: z.string(), message: z.string() }).nullable(),
});
export const JobListResponse = z.object({ jobs: z.array(JobSummaryView), nextCursor: z.string().nullable() });

export const DlqListQuery = z
  .object({
    queue: qList(QueueName, 50).optional().describe("Comma-separated queue names."),
    reason: z.enum(["max_attempts", "non_retryable", "lease_expired"]).optional(),
    error: z.string().min(1).max(200).optional().describe("Case-insensitive text in the error's name or message."),
    fingerprint: z.string().regex(/^[0-9a-f]{12}$/).optional().describe("Only entries with this error fingerprint (as entries report it): one cause, whatever ids or numbers its messages carry."),
    since: qTime.optional(),
    until: qTime.optional(),
    limit: qInt(1, 100).optional(),
    cursor: z.string().min(1).max(300).optional(),
  })
  .strict();
export const DlqEntryView = z.object({
  id: Id,
  queue: z.string(),
  type: z.string(),
  reason: z.string(),
  deadLetteredAt: IsoDate,
  attempts: z.number().int(),
  error: JobError.nullable(),
  fingerprint: z.string().describe("12 hex digits grouping entries with one cause: the error's name and message with numbers, UUIDs and long hex ids blanked out."),
});
export const DlqListResponse = z.object({ entries: z.array(DlqEntryView), nextCursor: z.string().nullable() });
export const DlqReplayBody = z
  .object({
    ids: z.array(Id).min(1).max(100).refine((ids) => new Set(ids).size === ids.length, "ids must not repeat"),
    payload: z.unknown().optional().describe("An edited payload (only with exactly one id)."),
    sensitive: SensitivePaths.optional().describe("Paths into `{payload}` to seal in the edited payload; default: where the stored payload had sealed fields."),
  })
  .strict()
  .refine((b) => b.payload === undefined || b.ids.length === 1, { message: "an edited payload replays exactly one job", path: ["payload"] })
  .refine((b) => b.sensitive === undefined || b.payload !== undefined, { message: "sensitive needs an edited payload", path: ["sensitive"] });
export const DlqReplayResponse = z.object({ results: z.array(z.object({ id: Id, outcome: z.enum(["replayed", "not_in_dlq", "not_found"]) })) });
export const DlqPurgeOneResponse = z.object({ id: Id, purged: z.literal(true) });
export const DlqPurgeAllQuery = z.object({ queue: QueueName.optional() }).strict();
export const DlqPurgeAllResponse = z.object({ purged: z.number().int() });

// ── Observability ─────────────────────────────────────────────────────────────────────────────
export const StatsQuery = z.object({ queue: qList(QueueName, 50).optional() }).strict();
export const QueueStatsView = z.object({
  pending: z.number().int(),
  started: z.number().int(),
  finished: z.number().int(),
  failed: z.number().int(),
  deferred: z.number().int(),
  scheduled: z.number().int(),
  dlq: z.number().int(),
  oldestPendingAgeMs: z.number().nullable(),
  streamLength: z.number().describe("Entries in the queue's ready streams: pending + started (seed 2's stream_length)."),
  totals: z.record(z.string(), z.number()),
  byLevel: z
    .record(PermissionLevel, z.object({ pending: z.number().int(), started: z.number().int() }))
    .describe("pending and started per permission level: what only workers allowed that level can take."),
});
export const WorkerInfoView = z.object({
  workerId: z.string(),
  state: z.enum(["idle", "busy", "suspended"]),
  active_jobs: z.number().int(),
  jobs_processed: z.number().int(),
  jobs_failed: z.number().int(),
  uptime_seconds: z.number().int(),
  queues: z.array(z.string()),
  permission_levels: z.array(z.string()),
  concurrency: z.number().int(),
  host: z.string(),
  pid: z.number().int(),
  started_at: IsoDate,
  last_beat_at: IsoDate,
});
export const WorkerStatsView = z.object({
  total: z.number().int(),
  idle: z.number().int(),
  busy: z.number().int(),
  suspended: z.number().int(),
  workers: z.array(WorkerInfoView),
});
export const WorkerIdParams = z.object({ id: Id }).strict();
export const WorkerControlResponse = z.object({ workerId: Id, suspended: z.boolean() });
export const StatsResponse = z.object({
  queues: z.record(z.string(), QueueStatsView),
  workers: WorkerStatsView.nullable().describe("From the worker registry; null when this deployment has none."),
});

// ── Administration ───────────────────────────────────────────────────────────────────────────
export const ApiKeyView = z.object({
  id: KeyId,
  principal: PrincipalName,
  roles: z.array(Role),
  permissionLevels: z.array(PermissionLevel),
  name: z.string().nullable(),
  createdAt: IsoDate,
  expiresAt: IsoDate.nullable(),
  revokedAt: IsoDate.nullable(),
  lastUsedAt: IsoDate.nullable(),
});
export const CreateApiKeyBody = CreateApiKeyInput;
export const KeysCreateResponse = ApiKeyView.extend({ key: z.string().describe("ws_<id>_<secret>: shown once, never stored.") });
export const KeysListQuery = z
  .object({ principal: PrincipalName.optional(), includeRevoked: qBool.optional(), limit: qInt(1, 1000).optional() })
  .strict();
export const KeysListResponse = z.object({ keys: z.array(ApiKeyView) });
export const AuditQueryParams = z
  .object({
    limit: qInt(1, 500).optional(),
    cursor: z.string().regex(/^\d+-\d+$/, "not a cursor from a previous page").optional(),
    principal: z.string().min(1).max(64).optional(),
    action: z.string().min(1).max(64).optional(),
    jobId: Id.optional(),
  })
  .strict();
export const AuditEntryView = z.object({
  id: z.string(),
  at: IsoDate,
  principal: z.string(),
  keyId: z.string().nullable(),
  action: z.string(),
  jobId: z.string().nullable(),
  outcome: z.string(),
  status: z.number().int(),
  details: JsonObject.nullable(),
});
export const AuditListResponse = z.object({ entries: z.array(AuditEntryView), nextCursor: z.string().nullable() });

export const ErrorResponse = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: JsonObject }),
});
