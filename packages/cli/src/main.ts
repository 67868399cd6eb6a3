/**
 * `workstream`: the command line for operators and scripts.
 *
 *   workstream worker [options]            run a worker (same as the container entry)
 *   workstream enqueue [options]           enqueue one job from flags, or --file (one job or an array)
 *   workstream status <job-id>             a job's record
 *   workstream stats                       queue and worker stats
 *   workstream workers suspend|resume <id> suspend or resume a worker
 *   workstream dlq list|show|replay|purge  dead-letter triage
 *   workstream keys create|list|revoke     API keys (stored hashed; the secret is shown once)
 *
 * Output is human-readable, or JSON with --json. Exit codes: 0 ok, 1 runtime error, 2 usage or
 * configuration error; every failure prints one line on stderr.
 */
import { readFileSync } from "node:fs";
import os from "node:os";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { z } from "zod";
import {
  ApiKeyStore,
  AuditLog,
  auditedCall,
  configFromEnv,
  connect,
  LISTABLE_STATES,
  ListableState,
  Queue,
  scriptRunner,
  WorkerNotFoundError,
  WorkstreamError,
  type ApiKeyInfo,
  type AuditEvent,
  type EnqueueResult,
  type Job,
  type JobSummary,
  type QueueStats,
  type ScheduleInput,
  type SealableEnqueueInput,
  type WorkerStats,
  keySpace,
  PermissionLevel,
  Role,
} from "@workstream/core";

export const USAGE = `usage: workstream <command> [options]

commands:
  dev [options]                      the local stack: redis-server, REST stand-in, HTTP API, maintenance,
                                     --workers N worker processes (see: workstream dev --help)
  worker [options]                   run a worker until SIGTERM (see: workstream worker --help)
  enqueue [options]                  enqueue a job:
      --payload JSON  --type T  --queue Q  --priority low|normal|high|critical  --id ID
      --permission-level L  --delay-ms N  --max-retries N  --timeout-seconds N
      --sensitive payload.a,payload.b  fields to encrypt before they reach Redis (WORKSTREAM_ENCRYPTION_KEYS)
      --file PATH                    a JSON job object, or an array of them (batched, with progress on stderr;
                                     each may list its own "sensitive" paths)
  status <job-id>                    a job's status, attempts, result or error
  jobs <state> [--queue Q] [--limit N] [--cursor C]
                                     a queue's jobs in one state: pending, active, scheduled, deferred,
                                     completed, failed (default queue: default)
  stats                              queue stats and workers
  schedules set <name> --cron EXPR --job JSON [--sensitive payload.a,payload.b]
                                     create or replace a recurring schedule (cron in UTC, or @daily…;
                                     JSON: the job each run enqueues, e.g. '{"type":"report","payload":{}}')
  schedules list | schedules delete <name>
  workers suspend|resume <id>        stop a worker claiming new jobs, or let it claim again
  dlq list [--queue Q] [--reason R] [--fingerprint F] [--limit N] [--cursor C]
  dlq show <job-id>
  dlq replay <job-id>... [--payload JSON]
  dlq purge <job-id> | --all [--queue Q]
  keys create --principal NAME --roles r1,r2 [--permission-levels a,b] [--name TEXT] [--expires-in-days N]
  keys list [--principal NAME] [--all]
  keys revoke <key-id>

global options:
  --json       machine-readable output on stdout
  -h, --help   this help

Redis comes from the environment: WORKSTREAM_REDIS_URL (TCP), or UPSTASH_REDIS_REST_URL and
UPSTASH_REDIS_REST_TOKEN (HTTP); WORKSTREAM_KEY_PREFIX and the other engine settings likewise.
Exit codes: 0 ok, 1 runtime error, 2 usage or configuration error.`;

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

export interface CliIo {
  env: Record<string, string | undefined>;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** True when stderr is a terminal (the progress bar redraws in place). */
  stderrIsTty: boolean;
}

/** Batch size for --file arrays (the engine takes at most 1000 per call). */
export const BATCH_CHUNK = 500;

const USAGE_CODES = new Set(["validation_error", "unknown_queue", "payload_too_large", "config_error"]);

function parse<T extends NonNullable<ParseArgsConfig["options"]>>(args: readonly string[], options: T) {
  try {
    return parseArgs({ args: [...args], options: { ...options, json: { type: "boolean" } }, strict: true, allowPositionals: true });
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message.split("\n")[0]! : String(e));
  }
}

function jsonArg(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new UsageError(`${what} is not valid JSON`);
  }
}

const intArg = (v: string | boolean | undefined, flag: string): number | undefined => {
  if (v === undefined || typeof v === "boolean") return undefined;
  if (!/^\d+$/.test(v)) throw new UsageError(`${flag} must be a whole number`);
  return Number(v);
};

const str = (v: string | boolean | undefined): string | undefined => (typeof v === "string" ? v : undefined);

// ── rendering ─────────────────────────────────────────────────────────────────────────────────

function table(headers: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | number>>): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  return cells.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ").trimEnd()).join("\n");
}

const age = (ms: number | null) => (ms === null ? "-" : ms < 1000 ? `${ms}ms` : ms < 60_000 ? `${Math.round(ms / 1000)}s` : `${Math.round(ms / 60_000)}m`);

export function renderStats(queues: readonly QueueStats[], workers: WorkerStats): string {
  const q = table(
    ["queue", "pending", "started", "scheduled", "finished", "failed", "deferred", "dlq", "oldest"],
    queues.map((s) => [s.queue, s.pending, s.started, s.scheduled, s.finished, s.failed, s.deferred, s.dlq, age(s.oldestPendingAgeMs)]),
  );
  const summary = `workers: ${workers.total} total, ${workers.idle} idle, ${workers.busy} busy, ${workers.suspended} suspended`;
  const w = workers.workers.length
    ? `\n${table(
        ["worker", "state", "active", "processed", "failed", "uptime", "queues"],
        workers.workers.map((x) => [x.workerId, x.state, x.active_jobs, x.jobs_processed, x.jobs_failed, `${x.uptime_seconds}s`, x.queues.join(",")]),
      )}`
    : "";
  return `${q}\n\n${summary}${w}\n`;
}

export function renderJob(job: Job): string {
  const lines = [
    `id:        ${job.id}`,
    `queue:     ${job.queue} (${job.priority}, ${job.permissionLevel})`,
    `type:      ${job.type}`,
    `status:    ${job.status}`,
    `attempts:  ${job.attempts}/${job.maxAttempts}`,
    `created:   ${job.createdAt}`,
  ];
  if (job.worker) lines.push(`worker:    ${job.worker}`);
  if (job.startedAt) lines.push(`started:   ${job.startedAt}`);
  if (job.finishedAt) lines.push(`finished:  ${job.finishedAt}`);
  if (job.nextAttemptAt) lines.push(`next try:  ${job.nextAttemptAt}`);
  if (job.progress !== null) lines.push(`progress:  ${JSON.stringify(job.progress)}`);
  if (job.result !== null) lines.push(`result:    ${JSON.stringify(job.result)}`);
  if (job.error) lines.push(`error:     ${job.error.name}: ${job.error.message}`);
  if (job.deadLetter) lines.push(`dlq:       ${job.deadLetter.reason} at ${job.deadLetter.at}`);
  lines.push("history:", ...job.history.map((h) => `  ${h.at}  ${h.status}${h.attempt ? ` #${h.attempt}` : ""}${h.worker ? ` by ${h.worker}` : ""}${h.error ? ` — ${h.error}` : ""}`));
  return `${lines.join("\n")}\n`;
}

/** A textual progress bar: `[#########-----------]  900/2000  45%`. */
export function progressBar(done: number, total: number, width = 30): string {
  const frac = total === 0 ? 1 : done / total;
  const filled = Math.round(frac * width);
  return `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${String(done).padStart(String(total).length)}/${total} ${String(Math.floor(frac * 100)).padStart(3)}%`;
}

// ── audit ─────────────────────────────────────────────────────────────────────────────────────

/**
 * Who the audit log names for a CLI operation: there is no API key, so the OS user and host
 * (`WORKSTREAM_AUDIT_PRINCIPAL` overrides it, e.g. in CI jobs).
 */
function cliPrincipal(env: CliIo["env"]): string {
  const given = env["WORKSTREAM_AUDIT_PRINCIPAL"];
  if (given) return given.slice(0, 64);
  let user = "unknown";
  try {
    user = os.userInfo().username;
  } catch {
    // no passwd entry (some containers): keep "unknown"
  }
  return `cli:${user}@${os.hostname()}`.slice(0, 64);
}

type Recorder = (e: AuditEvent) => Promise<void>;

/**
 * Runs a state-changing operation and records it in the audit log, as the HTTP API records its
 * requests: the outcome is "ok" or the error code. A failure to write the record is reported on
 * stderr; it does not undo or fail the operation, which already happened.
 */
function audited<T>(io: CliIo, record: Recorder, action: string, jobId: string | null, fn: () => Promise<T>, details?: (r: T) => Record<string, unknown>): Promise<T> {
  return auditedCall(
    {
      principal: cliPrincipal(io.env),
      action,
      jobId,
      ...(details && { details }),
      record,
      onRecordError: (e) => io.stderr(`workstream: the audit log was not written: ${e instanceof Error ? e.message : String(e)}\n`),
    },
    fn,
  );
}

// ── commands ──────────────────────────────────────────────────────────────────────────────────

type Command = (args: string[], io: CliIo, open: () => Queue) => Promise<void>;

const enqueueCmd: Command = async (args, io, open) => {
  const { values, positionals } = parse(args, {
    file: { type: "string" },
    payload: { type: "string" },
    type: { type: "string" },
    queue: { type: "string" },
    priority: { type: "string" },
    id: { type: "string" },
    "permission-level": { type: "string" },
    "delay-ms": { type: "string" },
    "max-retries": { type: "string" },
    "timeout-seconds": { type: "string" },
    sensitive: { type: "string" },
  });
  if (positionals.length) throw new UsageError(`enqueue takes no arguments (got "${positionals[0]}")`);
  let jobs: unknown[];
  let batch = false;
  if (values.file !== undefined) {
    if (values.payload !== undefined) throw new UsageError("give --file or --payload, not both");
    let text: string;
    try {
      text = readFileSync(str(values.file)!, "utf8");
    } catch (e) {
      throw new UsageError(`cannot read ${str(values.file)}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
    const parsed = jsonArg(text, str(values.file)!);
    batch = Array.isArray(parsed);
    jobs = Array.isArray(parsed) ? parsed : [parsed];
    if (jobs.some((j) => j === null || typeof j !== "object" || Array.isArray(j))) throw new UsageError("--file must hold a job object or an array of job objects");
  } else {
    if (values.payload === undefined) throw new UsageError("enqueue needs --payload JSON or --file PATH");
    const job: Record<string, unknown> = { payload: jsonArg(str(values.payload)!, "--payload") };
    if (values.type !== undefined) job["type"] = values.type;
    if (values.queue !== undefined) job["queue"] = values.queue;
    if (values.priority !== undefined) job["priority"] = values.priority;
    if (values.id !== undefined) job["id"] = values.id;
    if (values["permission-level"] !== undefined) job["permissionLevel"] = values["permission-level"];
    const delay = intArg(values["delay-ms"], "--delay-ms");
    if (delay !== undefined) job["delayMs"] = delay;
    const retries = intArg(values["max-retries"], "--max-retries");
    if (retries !== undefined) job["maxRetries"] = retries;
    const timeout = intArg(values["timeout-seconds"], "--timeout-seconds");
    if (timeout !== undefined) job["timeoutSeconds"] = timeout;
    if (values.sensitive !== undefined) job["sensitive"] = str(values.sensitive)!.split(",").map((p) => p.trim()).filter(Boolean);
    jobs = [job];
  }
  const queue = open();
  try {
    const results: EnqueueResult[] = [];
    const draw = (done: number) => {
      if (!batch) return;
      const bar = progressBar(done, jobs.length);
      io.stderr(io.stderrIsTty ? `\r${bar}` : `${bar}\n`);
    };
    draw(0);
    for (let i = 0; i < jobs.length; i += BATCH_CHUNK) {
      const chunk = jobs.slice(i, i + BATCH_CHUNK) as SealableEnqueueInput[];
      try {
        const ids = (r: EnqueueResult[]) => ({ count: r.length, created: r.filter((x) => x.created).length, ids: r.slice(0, 50).map((x) => x.id) });
        results.push(...(await audited(io, (e) => queue.recordAudit(e), "enqueueBatch", null, () => queue.enqueueBatch(chunk), ids)));
      } catch (e) {
        if (batch && io.stderrIsTty) io.stderr("\n");
        if (e instanceof WorkstreamError && e.code === "validation_error" && batch) {
          const index = typeof e.details["index"] === "number" ? i + e.details["index"] : i;
          throw new WorkstreamError(e.code, `${e.message.replace(/^jobs\[\d+\]/, `jobs[${index}]`)} (${results.length} of ${jobs.length} enqueued before it)`, e.details);
        }
        throw e;
      }
      draw(results.length);
    }
    if (batch && io.stderrIsTty) io.stderr("\n");
    if (values.json) {
      io.stdout(`${JSON.stringify(batch ? results : results[0])}\n`);
    } else if (batch) {
      const created = results.filter((r) => r.created).length;
      io.stdout(`enqueued ${created} new job(s), ${results.length - created} already existed\n`);
    } else {
      const r = results[0]!;
      io.stdout(`${r.id}  ${r.queue}  ${r.status}${r.created ? "" : "  (already existed)"}\n`);
    }
  } finally {
    await queue.close();
  }
};

const statusCmd: Command = async (args, io, open) => {
  const { values, positionals } = parse(args, {});
  if (positionals.length !== 1) throw new UsageError("usage: workstream status <job-id>");
  const queue = open();
  try {
    const job = await queue.status(positionals[0]!);
    io.stdout(values.json ? `${JSON.stringify(job)}\n` : renderJob(job));
  } finally {
    await queue.close();
  }
};

const statsCmd: Command = async (args, io, open) => {
  const { values, positionals } = parse(args, { queue: { type: "string", multiple: true } });
  if (positionals.length) throw new UsageError(`stats takes no arguments (got "${positionals[0]}")`);
  const queue = open();
  try {
    const queues = await queue.stats(values.queue as string[] | undefined);
    const workers = await queue.workerStats();
    io.stdout(values.json ? `${JSON.stringify({ queues, workers })}\n` : renderStats(queues, workers));
  } finally {
    await queue.close();
  }
};

const workersCmd: Command = async (args, io, open) => {
  const { values, positionals } = parse(args, {});
  const [action, id, ...rest] = positionals;
  if ((action !== "suspend" && action !== "resume") || !id || rest.length) throw new UsageError("usage: workstream workers suspend|resume <worker-id>");
  const queue = open();
  try {
    await audited(io, (e) => queue.recordAudit(e), action === "suspend" ? "workerSuspend" : "workerResume", null, async () => {
      const found = action === "suspend" ? await queue.suspendWorker(id) : await queue.resumeWorker(id);
      if (!found) throw new WorkerNotFoundError(id);
    }, () => ({ workerId: id }));
    io.stdout(values.json ? `${JSON.stringify({ workerId: id, suspended: action === "suspend" })}\n` : `${id} ${action === "suspend" ? "suspended" : "resumed"}\n`);
  } finally {
    await queue.close();
  }
};

const jobsCmd: Command = async (args, io, open) => {
  const { values, positionals } = parse(args, { queue: { type: "string" }, limit: { type: "string" }, cursor: { type: "string" } });
  const [state, ...rest] = positionals;
  if (!state || rest.length > 0) throw new UsageError(`usage: workstream jobs <${LISTABLE_STATES.join("|")}> [--queue Q] [--limit N] [--cursor C]`);
  const parsed = ListableState.safeParse(state);
  if (!parsed.success) throw new UsageError(`unknown state "${state}" (one of ${LISTABLE_STATES.join(", ")})`);
  const limit = intArg(values.limit, "--limit");
  const queue = open();
  try {
    const page = await queue.listJobs({
      queue: str(values.queue) ?? "default",
      state: parsed.data,
      ...(limit !== undefined ? { limit } : {}),
      ...(values.cursor !== undefined ? { cursor: str(values.cursor)! } : {}),
    });
    const when = (j: JobSummary) => j.finishedAt ?? j.runAt ?? j.startedAt ?? j.enqueuedAt ?? "";
    const rows = page.jobs.map((j) => [j.id, j.status, j.type, j.permissionLevel, `${j.attempts}/${j.maxAttempts}`, when(j), j.worker ?? "", j.error ? `${j.error.name}: ${j.error.message}`.slice(0, 60) : ""]);
    io.stdout(values.json ? `${JSON.stringify(page)}\n` : `${table(["job", "status", "type", "level", "attempts", "at", "worker", "error"], rows)}\n${page.nextCursor ? `more: --cursor ${page.nextCursor}\n` : ""}`);
  } finally {
    await queue.close();
  }
};

const schedulesCmd: Command = async (args, io, open) => {
  const { values, positionals } = parse(args, { cron: { type: "string" }, job: { type: "string" }, sensitive: { type: "string" } });
  const [action, ...names] = positionals;
  const out = (json: unknown, text: string) => io.stdout(values.json ? `${JSON.stringify(json)}\n` : text);
  const queue = open();
  try {
    switch (action) {
      case "set": {
        if (names.length !== 1 || values.cron === undefined || values.job === undefined) {
          throw new UsageError("usage: workstream schedules set <name> --cron EXPR --job JSON [--sensitive payload.a,…]");
        }
        const input = {
          name: names[0]!,
          cron: str(values.cron)!,
          job: jsonArg(str(values.job)!, "--job") as ScheduleInput["job"],
          ...(values.sensitive !== undefined ? { sensitive: str(values.sensitive)!.split(",").map((p) => p.trim()).filter(Boolean) } : {}),
        };
        const r = await audited(io, (e) => queue.recordAudit(e), "schedulesPut", null, () => queue.putSchedule(input), (x) => ({ name: x.schedule.name, cron: x.schedule.cron, created: x.created }));
        return out(r, `${r.schedule.name} ${r.created ? "created" : "replaced"}: ${r.schedule.cron}, next run ${r.schedule.nextRunAt}\n`);
      }
      case "list": {
        if (names.length) throw new UsageError("usage: workstream schedules list");
        const list = await queue.listSchedules();
        const rows = list.map((s) => [s.name, s.cron, s.nextRunAt, s.lastRunAt ?? "-", s.runs, String(s.job.type ?? "job")]);
        return out({ schedules: list }, list.length === 0 ? "no schedules\n" : `${table(["schedule", "cron", "next run", "last run", "runs", "job type"], rows)}\n`);
      }
      case "delete": {
        if (names.length !== 1) throw new UsageError("usage: workstream schedules delete <name>");
        await audited(io, (e) => queue.recordAudit(e), "schedulesDelete", null, () => queue.deleteSchedule(names[0]!), () => ({ name: names[0]! }));
        return out({ name: names[0], deleted: true }, `${names[0]} deleted\n`);
      }
      default:
        throw new UsageError("usage: workstream schedules set|list|delete …");
    }
  } finally {
    await queue.close();
  }
};

const dlqCmd: Command = async (args, io, open) => {
  const { values, positionals } = parse(args, {
    queue: { type: "string" },
    limit: { type: "string" },
    cursor: { type: "string" },
    payload: { type: "string" },
    all: { type: "boolean" },
    reason: { type: "string" },
    fingerprint: { type: "string" },
  });
  const [action, ...ids] = positionals;
  const out = (json: unknown, text: string) => io.stdout(values.json ? `${JSON.stringify(json)}\n` : text);
  const withQueue = async (fn: (q: Queue) => Promise<void>) => {
    const q = open();
    try {
      await fn(q);
    } finally {
      await q.close();
    }
  };
  switch (action) {
    case "list": {
      if (ids.length) throw new UsageError("usage: workstream dlq list [--queue Q] [--reason R] [--fingerprint F] [--limit N] [--cursor C]");
      const limit = intArg(values.limit, "--limit");
      return withQueue(async (q) => {
        const page = await q.dlqList({
          ...(values.queue !== undefined ? { queues: [str(values.queue)!] } : {}),
          ...(values.reason !== undefined ? { reason: str(values.reason)! } : {}),
          ...(values.fingerprint !== undefined ? { fingerprint: str(values.fingerprint)! } : {}),
          ...(limit !== undefined ? { limit } : {}),
          ...(values.cursor !== undefined ? { cursor: str(values.cursor)! } : {}),
        });
        const rows = page.entries.map((e) => [e.id, e.queue, e.reason, e.attempts, e.deadLetteredAt, e.fingerprint, e.error?.message.slice(0, 60) ?? ""]);
        out(page, `${table(["job", "queue", "reason", "attempts", "dead-lettered", "fingerprint", "error"], rows)}\n${page.nextCursor ? `more: --cursor ${page.nextCursor}\n` : ""}`);
      });
    }
    case "show": {
      if (ids.length !== 1) throw new UsageError("usage: workstream dlq show <job-id>");
      return withQueue(async (q) => {
        const job = await q.dlqGet(ids[0]!);
        out(job, `${renderJob(job)}${job.error?.stack ? `stack:\n${job.error.stack}\n` : ""}`);
      });
    }
    case "replay": {
      if (ids.length === 0) throw new UsageError("usage: workstream dlq replay <job-id>... [--payload JSON]");
      const payload = values.payload === undefined ? undefined : jsonArg(str(values.payload)!, "--payload");
      return withQueue(async (q) => {
        const res = await audited(io, (e) => q.recordAudit(e), "dlqReplay", ids.length === 1 ? ids[0]! : null, () => q.dlqReplay(ids, payload === undefined ? {} : { payload }), (r) => ({ results: r.slice(0, 50), payloadEdited: payload !== undefined }));
        out(res, `${res.map((r) => `${r.id}  ${r.outcome}`).join("\n")}\n`);
        if (res.some((r) => r.outcome !== "replayed")) process.exitCode = 1;
      });
    }
    case "purge": {
      if (values.all ? ids.length !== 0 : ids.length !== 1) throw new UsageError("usage: workstream dlq purge <job-id> | --all [--queue Q]");
      return withQueue(async (q) => {
        const record: Recorder = (e) => q.recordAudit(e);
        if (values.all) {
          const r = await audited(io, record, "dlqPurgeAll", null, () => q.dlqPurgeAll(str(values.queue)), (x) => ({ queue: str(values.queue) ?? "*", purged: x.purged }));
          out(r, `purged ${r.purged} job(s)\n`);
        } else {
          await audited(io, record, "dlqPurge", ids[0]!, () => q.dlqPurge(ids[0]!));
          out({ id: ids[0], purged: true }, `purged ${ids[0]}\n`);
        }
      });
    }
    default:
      throw new UsageError("usage: workstream dlq list|show|replay|purge …");
  }
};

const keysCmd: Command = async (args, io) => {
  const { values, positionals } = parse(args, {
    principal: { type: "string" },
    roles: { type: "string" },
    "permission-levels": { type: "string" },
    name: { type: "string" },
    "expires-in-days": { type: "string" },
    all: { type: "boolean" },
  });
  const [action, ...ids] = positionals;
  const { connection, settings } = configFromEnv(io.env);
  const port = connect(connection);
  const store = new ApiKeyStore(scriptRunner(port, settings.keyPrefix, Date.now), keySpace(settings.keyPrefix), Date.now);
  const auditLog = new AuditLog(scriptRunner(port, settings.keyPrefix, Date.now), keySpace(settings.keyPrefix));
  const record: Recorder = (e) => auditLog.append(e);
  const row = (k: ApiKeyInfo) => [k.id, k.principal, k.roles.join(","), k.permissionLevels.join(",") || "-", k.expiresAt ?? "-", k.revokedAt ? "revoked" : "active"];
  const headers = ["key", "principal", "roles", "levels", "expires", "state"];
  const out = (json: unknown, text: string) => io.stdout(values.json ? `${JSON.stringify(json)}\n` : text);
  try {
    switch (action) {
      case "create": {
        if (ids.length || values.principal === undefined || values.roles === undefined) {
          throw new UsageError("usage: workstream keys create --principal NAME --roles producer,worker,controller,admin [--permission-levels a,b] [--name TEXT] [--expires-in-days N]");
        }
        const days = intArg(values["expires-in-days"], "--expires-in-days");
        const created = await audited(io, record, "keysCreate", null, () => store.create({
          principal: str(values.principal)!,
          roles: z.array(Role).parse(str(values.roles)!.split(",").map((r) => r.trim())),
          ...(values["permission-levels"] !== undefined ? { permissionLevels: z.array(PermissionLevel).parse(str(values["permission-levels"])!.split(",").map((l) => l.trim())) } : {}),
          ...(values.name !== undefined ? { name: str(values.name)! } : {}),
          ...(days !== undefined ? { expiresInDays: days } : {}),
        }), (k) => ({ keyId: k.id, principal: k.principal, roles: k.roles }));
        out(created, `${table(headers, [row(created)])}\n\nkey (shown once, store it now): ${created.key}\n`);
        return;
      }
      case "list": {
        if (ids.length) throw new UsageError("usage: workstream keys list [--principal NAME] [--all]");
        const keys = await store.list({ ...(values.principal !== undefined ? { principal: str(values.principal)! } : {}), includeRevoked: values.all === true });
        out(keys, `${table(headers, keys.map(row))}\n`);
        return;
      }
      case "revoke": {
        if (ids.length !== 1) throw new UsageError("usage: workstream keys revoke <key-id>");
        const k = await audited(io, record, "keysRevoke", null, () => store.revoke(ids[0]!), (x) => ({ keyId: x.id, principal: x.principal }));
        out(k, `revoked ${k.id} (${k.principal})\n`);
        return;
      }
      default:
        throw new UsageError("usage: workstream keys create|list|revoke …");
    }
  } finally {
    await port.close();
  }
};

const COMMANDS: Record<string, Command> = {
  keys: keysCmd,
  enqueue: enqueueCmd,
  status: statusCmd,
  jobs: jobsCmd,
  schedules: schedulesCmd,
  stats: statsCmd,
  workers: workersCmd,
  dlq: dlqCmd,
};

/**
 * Runs the CLI with the given arguments; resolves the exit code. Never throws.
 *
 * @example
 * process.exitCode = await runCli(process.argv.slice(2), { env: process.env, stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t), stderrIsTty: false });
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === "-h" || command === "--help" || command === "help") {
    (command === undefined ? io.stderr : io.stdout)(`${USAGE}\n`);
    return command === undefined ? 2 : 0;
  }
  if (command === "dev") {
    const { runDev } = await import("@workstream/local/dev"); // loaded only for this command
    await runDev(rest);
    if (rest.includes("-h") || rest.includes("--help")) return 0;
    return new Promise<number>(() => {}); // runs until SIGINT/SIGTERM, which stop the stack and exit
  }
  if (command === "worker") {
    const { runWorkerProcess } = await import("@workstream/worker"); // loaded only for this command
    return runWorkerProcess({ argv: rest, env: io.env, stderr: (l) => io.stderr(`${l}\n`), stdout: io.stdout });
  }
  const run = COMMANDS[command];
  if (!run) {
    io.stderr(`workstream: unknown command "${command}" (try: workstream --help)\n`);
    return 2;
  }
  if (rest.includes("-h") || rest.includes("--help")) {
    io.stdout(`${USAGE}\n`);
    return 0;
  }
  try {
    await run(rest, io, () => Queue.fromEnv(io.env));
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    const oneLine = message.split("\n")[0]!.slice(0, 500);
    if (e instanceof UsageError) {
      io.stderr(`workstream ${command}: ${oneLine}\n`);
      return 2;
    }
    if (e instanceof WorkstreamError) {
      io.stderr(`workstream ${command}: ${oneLine}\n`);
      return USAGE_CODES.has(e.code) ? 2 : 1;
    }
    if (e instanceof z.ZodError) {
      io.stderr(`workstream ${command}: ${e.issues[0]?.message ?? "invalid input"}\n`);
      return 2;
    }
    io.stderr(`workstream ${command}: ${oneLine}\n`);
    return 1;
  }
}

const isMain = process.argv[1] !== undefined && /(?:workstream(?:\.mjs)?|cli[\\/]src[\\/]main\.ts|cli\.mjs)$/.test(process.argv[1]);
if (isMain) {
  const code = await runCli(process.argv.slice(2), {
    env: process.env,
    stdout: (t) => void process.stdout.write(t),
    stderr: (t) => void process.stderr.write(t),
    stderrIsTty: process.stderr.isTTY === true,
  });
  // The worker command resolves once it has stopped; everything else is done too.
  process.stdout.write("", () => process.exit(code));
}
