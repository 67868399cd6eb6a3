/**
 * The local notifier: POSTs JSON with Node's fetch, retrying 5xx/429/network errors a bounded number
 * of times with exponential backoff. It mirrors QStash's semantics where it cheaply can: a
 * deduplication id is delivered once per process, and `notBefore` delays the POST with an in-process
 * timer (fine for the local stack, which is a long-lived process; the cloud uses QStash).
 */
import { describeError } from "../maintenance/log.ts";
import { DELIVERY_ID_HEADER, type Delivery, type DeliveryResult, type Notifier } from "./notifier.ts";

export interface HttpNotifierOptions {
  /** Attempts per delivery, first included (default 3). */
  attempts?: number;
  /** First backoff; doubles per attempt (default 200 ms). */
  backoffMs?: number;
  /** Per-request timeout (default 10 s). */
  timeoutMs?: number;
  /** How many delivered ids are remembered for deduplication (default 10 000). */
  dedupWindow?: number;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

const RETRYABLE = (status: number) => status >= 500 || status === 408 || status === 429;

export function httpNotifier(opts: HttpNotifierOptions = {}): Notifier {
  const attempts = Math.max(1, opts.attempts ?? 3);
  const backoff = opts.backoffMs ?? 200;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const window = opts.dedupWindow ?? 10_000;
  const doFetch = opts.fetch ?? fetch;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const now = opts.now ?? Date.now;
  const seen = new Set<string>();

  const remember = (id: string) => {
    seen.add(id);
    if (seen.size > window) seen.delete(seen.values().next().value as string);
  };

  async function post(d: Delivery): Promise<DeliveryResult> {
    const body = JSON.stringify(d.body);
    let last: DeliveryResult = { ok: false, error: "not attempted", status: null };
    for (let i = 0; i < attempts; i++) {
      if (i > 0) await sleep(backoff * 2 ** (i - 1));
      try {
        const res = await doFetch(d.url, {
          method: "POST",
          headers: { "content-type": "application/json", ...d.headers, [DELIVERY_ID_HEADER]: d.deduplicationId },
          body,
          signal: AbortSignal.timeout(timeoutMs),
        });
        await res.arrayBuffer().catch(() => undefined);
        if (res.ok) return { ok: true, messageId: null, deduplicated: false };
        last = { ok: false, error: `HTTP ${res.status}`, status: res.status };
        if (!RETRYABLE(res.status)) return last;
      } catch (e) {
        last = { ok: false, error: describeError(e).message, status: null };
      }
    }
    return last;
  }

  return {
    kind: "http",
    async deliver(d) {
      if (seen.has(d.deduplicationId)) return { ok: true, messageId: null, deduplicated: true };
      remember(d.deduplicationId);
      const wait = d.notBefore !== undefined ? d.notBefore - now() : 0;
      if (wait > 0) {
        setTimeout(() => void post(d), wait).unref();
        return { ok: true, messageId: null, deduplicated: false };
      }
      const r = await post(d);
      if (!r.ok) seen.delete(d.deduplicationId);
      return r;
    },
  };
}
