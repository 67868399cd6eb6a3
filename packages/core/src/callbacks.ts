/**
 * The callback outbox, engine side. The scripts that finish a job (ack, fail, the lease reclaimer)
 * queue its callback in the same atomic step (`queue_callback` in lua/includes/transitions.lua);
 * these two operations hand queued callbacks to a sender and remove them once sent. Sending (over
 * QStash or plain HTTP) is notify/callbacks.ts.
 */
import { z } from "zod";
import { listFromLua, type EngineContext } from "./context.ts";
import { Outcome } from "./notify/notifier.ts";

/** A queued callback, with what the job record says now. */
export interface QueuedCallback {
  /** The outbox entry id: pass it to settleCallbacks once sent. */
  entry: string;
  jobId: string;
  queue: string;
  outcome: Outcome;
  attempts: number;
  url: string;
  finishedAt: number;
  /** How many times it has been taken, this time included. */
  deliveries: number;
  /** The job record's status, result JSON and error JSON now ('' when the record is gone). */
  record: { status: string; result: string; error: string };
}

/** A callback given up on after `maxDeliveries` takes without being settled. */
export interface DroppedCallback {
  entry: string;
  jobId: string;
  outcome: string;
  url: string;
  deliveries: number;
}

export interface TakeCallbacksOptions {
  /** The consumer name: a role such as "api", "worker" or "maintenance" (default "maintenance"). */
  sender?: string;
  /** Most entries to take (default 100). */
  limit?: number;
  /** An entry taken this long ago and not settled is taken again (default 60 s). */
  retryAfterMs?: number;
  /** An entry taken this many times and not settled is dropped (default 5). */
  maxDeliveries?: number;
}

const TakeReply = z.object({
  entries: z.preprocess(
    listFromLua,
    z.array(
      z.object({
        entry: z.string(),
        id: z.string(),
        outcome: Outcome,
        queue: z.string(),
        attempts: z.number(),
        url: z.string(),
        finished_at: z.number(),
        deliveries: z.number(),
        status: z.string(),
        result: z.string(),
        error: z.string(),
      }),
    ),
  ),
  dropped: z.preprocess(listFromLua, z.array(z.object({ entry: z.string(), id: z.string(), outcome: z.string(), url: z.string(), deliveries: z.number() }))),
});

const SENDER = /^[A-Za-z0-9_.:-]{1,64}$/;

/** Takes queued callbacks for one sender; each entry is with one sender at a time until settled or retried. */
export async function takeCallbacks(ctx: EngineContext, opts: TakeCallbacksOptions = {}): Promise<{ callbacks: QueuedCallback[]; dropped: DroppedCallback[] }> {
  const sender = opts.sender ?? "maintenance";
  if (!SENDER.test(sender)) throw new RangeError(`callback sender must match ${SENDER}, got ${JSON.stringify(sender)}`);
  const limit = opts.limit ?? 100;
  const maxDeliveries = opts.maxDeliveries ?? 5;
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new RangeError(`limit must be an integer in 1..1000, got ${limit}`);
  if (!Number.isInteger(maxDeliveries) || maxDeliveries < 1) throw new RangeError(`maxDeliveries must be a positive integer, got ${maxDeliveries}`);
  const retryAfterMs = Math.max(0, Math.floor(opts.retryAfterMs ?? 60_000));
  const r = TakeReply.parse(JSON.parse(await ctx.run("callbacks_take", [sender, limit, retryAfterMs, maxDeliveries])));
  return {
    callbacks: r.entries.map((e) => ({
      entry: e.entry,
      jobId: e.id,
      queue: e.queue,
      outcome: e.outcome,
      attempts: e.attempts,
      url: e.url,
      finishedAt: e.finished_at,
      deliveries: e.deliveries,
      record: { status: e.status, result: e.result, error: e.error },
    })),
    dropped: r.dropped.map((d) => ({ entry: d.entry, jobId: d.id, outcome: d.outcome, url: d.url, deliveries: d.deliveries })),
  };
}

const ENTRY_ID = /^\d+-\d+$/;

/** Removes sent callbacks from the outbox. Returns how many were still there. */
export async function settleCallbacks(ctx: EngineContext, entries: readonly string[]): Promise<number> {
  if (entries.length === 0) return 0;
  for (const e of entries) if (!ENTRY_ID.test(e)) throw new RangeError(`not an outbox entry id: ${JSON.stringify(e)}`);
  const r = z.object({ settled: z.number() }).parse(JSON.parse(await ctx.run("callbacks_settle", entries)));
  return r.settled;
}
