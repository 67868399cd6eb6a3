/**
 * Dead-letter triage: list with filters and pagination, inspect, replay (idempotent), purge.
 */
import { z } from "zod";
import { listFromLua, type EngineContext } from "./context.ts";
import { NotInDlqError, PayloadTooLargeError, ValidationError } from "./errors.ts";
import { JobError, type Job } from "./job.ts";
import { Id } from "./messages.ts";
import { validate } from "./validate.ts";

export interface DlqEntry {
  id: string;
  queue: string;
  type: string;
  reason: string;
  deadLetteredAt: string;
  attempts: number;
  error: JobError | null;
  /**
   * Groups entries with one cause: 12 hex digits from the error's name and its message with
   * numbers, UUIDs and long hex ids blanked out (dlq_list.lua). Filter by it with `fingerprint`.
   */
  fingerprint: string;
}

export const DlqListOptions = z.object({
  queues: z.array(z.string()).optional(),
  /** Why the job was dead-lettered: "max_attempts", "non_retryable" or "lease_expired". */
  reason: z.string().max(64).optional(),
  /** Case-insensitive text in the error's message or name. */
  errorContains: z.string().max(200).optional(),
  /** Only entries whose error has this fingerprint (as a listed entry reports it). */
  fingerprint: z.string().regex(/^[0-9a-f]{12}$/, "fingerprint: 12 hex digits, as a listed entry reports it").optional(),
  /** Dead-lettered at or after this time (ms). */
  since: z.number().int().min(0).optional(),
  /** Dead-lettered at or before this time (ms). */
  until: z.number().int().min(0).optional(),
  limit: z.number().int().min(1).max(100).default(50),
  /** From a previous page's nextCursor. */
  cursor: z.string().max(200).optional(),
});
export type DlqListOptions = z.input<typeof DlqListOptions>;

export interface DlqPage {
  entries: DlqEntry[];
  /** Pass back as `cursor` for the next page; null when there is none. */
  nextCursor: string | null;
}

const ListReply = z.object({
  entries: z.preprocess(
    listFromLua,
    z.array(z.object({ id: z.string(), queue: z.string(), type: z.union([z.string(), z.literal(false)]), reason: z.union([z.string(), z.literal(false)]), at: z.number(), attempts: z.number().nullable().optional(), error: z.union([z.string(), z.literal(false)]).optional(), fingerprint: z.string() })),
  ),
  next: z.union([z.tuple([z.number(), z.string()]), z.literal(false)]),
});

function decodeCursor(cursor: string | undefined): { score: string; id: string } {
  if (!cursor) return { score: "+inf", id: "" };
  const m = /^(\d+):(.+)$/.exec(Buffer.from(cursor, "base64url").toString("utf8"));
  if (!m) throw new ValidationError("cursor: not a cursor from a previous page", { path: ["cursor"] });
  return { score: m[1]!, id: m[2]! };
}

export async function dlqList(ctx: EngineContext, input: DlqListOptions = {}): Promise<DlqPage> {
  const o = validate(DlqListOptions, input, "");
  const queues = ctx.queues.claimOrder(o.queues).map((q) => q.name);
  const c = decodeCursor(o.cursor);
  const max = o.until !== undefined && (c.score === "+inf" || o.until < Number(c.score)) ? String(o.until) : c.score;
  const idCut = max === c.score ? c.id : "";
  const args = [o.since ?? "-inf", max, idCut, o.limit, o.reason ?? "", (o.errorContains ?? "").toLowerCase(), 500, o.fingerprint ?? "", ...queues];
  const reply = ListReply.parse(JSON.parse(await ctx.run("dlq_list", args)));
  return {
    entries: reply.entries.map((e) => ({
      id: e.id,
      queue: e.queue,
      type: e.type || "job",
      reason: e.reason || "unknown",
      deadLetteredAt: new Date(e.at).toISOString(),
      attempts: e.attempts ?? 0,
      error: e.error ? JobError.parse(JSON.parse(e.error)) : null,
      fingerprint: e.fingerprint,
    })),
    nextCursor: reply.next ? Buffer.from(`${reply.next[0]}:${reply.next[1]}`).toString("base64url") : null,
  };
}

export async function dlqGet(getJob: (id: string) => Promise<Job>, id: string): Promise<Job> {
  const job = await getJob(id);
  if (job.status !== "failed" || !job.deadLetter) throw new NotInDlqError(job.id, job.status);
  return job;
}

export type ReplayOutcome = "replayed" | "not_in_dlq" | "not_found";

export async function dlqReplay(ctx: EngineContext, ids: readonly string[], opts: { payload?: unknown } = {}): Promise<Array<{ id: string; outcome: ReplayOutcome }>> {
  const list = validate(z.array(Id).min(1).max(1000), ids, "ids");
  let payload = "";
  if (opts.payload !== undefined) {
    if (list.length !== 1) throw new ValidationError("payload: an edited payload replays exactly one job", { path: ["payload"] });
    payload = JSON.stringify(opts.payload);
    const bytes = Buffer.byteLength(payload);
    if (bytes > ctx.settings.maxPayloadBytes) throw new PayloadTooLargeError(bytes, ctx.settings.maxPayloadBytes);
  }
  const reply = JSON.parse(await ctx.run("dlq_replay", [payload, ...list]));
  return z.array(z.object({ id: z.string(), outcome: z.enum(["replayed", "not_in_dlq", "not_found"]) })).parse(listFromLua(reply));
}

const PurgeReply = z.object({ purged: z.preprocess(listFromLua, z.array(z.string())), remaining: z.number() });

/** Deletes one dead-lettered job for good. */
export async function dlqPurge(ctx: EngineContext, id: string, getJob: (id: string) => Promise<Job>): Promise<void> {
  const jobId = validate(Id, id, "id");
  const reply = PurgeReply.parse(JSON.parse(await ctx.run("dlq_purge", ["ids", jobId])));
  if (reply.purged.length === 0) {
    const job = await getJob(jobId);
    throw new NotInDlqError(jobId, job.status);
  }
}

/** Deletes every dead-lettered job of the given queues (default all), in bounded batches. */
export async function dlqPurgeAll(ctx: EngineContext, queue?: string): Promise<{ purged: number }> {
  const queues = queue === undefined ? ctx.queues.ordered.map((q) => q.name) : [ctx.queues.get(queue).name];
  let purged = 0;
  for (const q of queues) {
    for (let batch = 0; batch < 10_000; batch++) {
      const reply = PurgeReply.parse(JSON.parse(await ctx.run("dlq_purge", ["queue", q, 500])));
      purged += reply.purged.length;
      if (reply.remaining === 0 || reply.purged.length === 0) break;
    }
  }
  return { purged };
}
