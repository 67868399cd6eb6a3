/**
 * Sends job callbacks from the outbox. The scripts that finish a job queue its callback atomically
 * with the transition (see callbacks.ts in core), so whoever finished it — the HTTP API, a Worker
 * on Fargate, the lease reclaimer — the callback is sent, and a crash between finishing and sending
 * loses nothing. Any process with a notify context can send: the API right after an ack or fail
 * (the callback leaves within that request), a Worker given `notify` right after its ack batch,
 * and scheduled maintenance every minute (which also retries what failed to send).
 *
 * Each outbox entry is with one sender at a time; an entry is removed once handed over (QStash
 * then retries the destination itself), kept for another try `retryAfterMs` later when sending
 * failed, and dropped with an error log after `maxDeliveries` tries. With QStash, the deduplication
 * id `${jobId}:${outcome}:${finishedAt}` drops a repeated send of the same finish.
 */
import type { QueuedCallback, TakeCallbacksOptions } from "../callbacks.ts";
import { mapLimit, send } from "./deliver.ts";
import type { DeliveryReport, NotifyContext } from "./hooks.ts";
import { EVENT_HEADER, type BriefError, type OutcomeMessage } from "./notifier.ts";

export interface DeliverCallbacksOptions extends TakeCallbacksOptions {
  /** Most take-and-send rounds (default 5; each takes up to `limit`). */
  maxPasses?: number;
}

function parseJson(raw: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(raw) };
  } catch {
    return { ok: false };
  }
}

function briefError(raw: string): BriefError {
  const parsed = parseJson(raw);
  const e = parsed.ok && parsed.value !== null && typeof parsed.value === "object" ? (parsed.value as Record<string, unknown>) : {};
  const name = typeof e["name"] === "string" ? e["name"] : "Error";
  const message = typeof e["message"] === "string" ? e["message"].slice(0, 1000) : "unknown error";
  return { name, message, ...(typeof e["code"] === "string" ? { code: e["code"] } : {}) };
}

/** The message for a queued callback, or null when its job record is gone (nothing true to say). */
export function outcomeMessage(c: QueuedCallback): OutcomeMessage | null {
  if (c.record.status === "") return null;
  const base = { jobId: c.jobId, queue: c.queue, outcome: c.outcome, attempts: c.attempts, finishedAt: new Date(c.finishedAt).toISOString() };
  if (c.outcome === "completed") {
    const result = parseJson(c.record.result);
    return { ...base, result: result.ok ? result.value : null };
  }
  return { ...base, error: briefError(c.record.error) };
}

/**
 * Sends one outcome to a callback URL. Deduplicated on `${jobId}:${outcome}:${finishedAt ms}`: a
 * re-send of the same finish is dropped, while a job replayed from the DLQ that finishes again is
 * called back again.
 */
export function notifyOutcome(ctx: NotifyContext, callbackUrl: string, message: OutcomeMessage): Promise<DeliveryReport> {
  return send(ctx, "callback", {
    url: callbackUrl,
    body: message,
    deduplicationId: `${message.jobId}:${message.outcome}:${Date.parse(message.finishedAt)}`,
    retries: ctx.retries,
    headers: { [EVENT_HEADER]: `job.${message.outcome}` },
  });
}

/** Sends what the outbox holds (see the module comment); returns a report per callback sent or tried. */
export async function deliverCallbacks(ctx: NotifyContext, opts: DeliverCallbacksOptions = {}): Promise<DeliveryReport[]> {
  const reports: DeliveryReport[] = [];
  const limit = opts.limit ?? 100;
  for (let pass = 0; pass < (opts.maxPasses ?? 5); pass++) {
    const { callbacks, dropped } = await ctx.jobs.takeCallbacks({ ...opts, limit });
    for (const d of dropped) {
      ctx.log.log({ level: "error", event: "notify.callback_dropped", jobId: d.jobId, outcome: d.outcome, url: d.url, deliveries: d.deliveries });
    }
    if (callbacks.length === 0) break;
    const settled: string[] = [];
    const sent = await mapLimit(callbacks, 10, async (c) => {
      const message = outcomeMessage(c);
      if (!message) {
        ctx.log.log({ level: "warn", event: "notify.callback_record_gone", jobId: c.jobId, outcome: c.outcome, url: c.url });
        settled.push(c.entry);
        return null;
      }
      const report = await notifyOutcome(ctx, c.url, message);
      if (report.result.ok) settled.push(c.entry);
      return report;
    });
    await ctx.jobs.settleCallbacks(settled);
    for (const r of sent) if (r) reports.push(r);
    if (callbacks.length < limit) break;
  }
  return reports;
}
