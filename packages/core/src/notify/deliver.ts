/**
 * Sending one notification and reporting the outcome as a value: shared by the hooks, the callback
 * outbox sender and the maintenance sweeps. A failure is logged as structured JSON, never thrown.
 */
import { describeError } from "../maintenance/log.ts";
import type { DeliveryReport, NotifyContext } from "./hooks.ts";
import type { DeliveryResult, Notifier } from "./notifier.ts";

export async function send(ctx: NotifyContext, kind: DeliveryReport["kind"], d: Parameters<Notifier["deliver"]>[0]): Promise<DeliveryReport> {
  let result: DeliveryResult;
  try {
    result = await ctx.notifier.deliver(d);
  } catch (e) {
    result = { ok: false, error: describeError(e).message, status: null };
  }
  if (!result.ok) {
    ctx.log.log({ level: "error", event: "notify.delivery_failed", kind, url: d.url, deduplicationId: d.deduplicationId, error: result.error, status: result.status });
  }
  return { kind, url: d.url, deduplicationId: d.deduplicationId, result };
}

/** Runs `fn` over `items` with at most `limit` in flight, keeping order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  });
  await Promise.all(lanes);
  return out;
}
