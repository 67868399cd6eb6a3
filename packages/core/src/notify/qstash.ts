/**
 * The cloud notifier: publishes through QStash (durable, retried, signed for the receiver).
 * Dev mode is always off: it would download and run a local QStash binary.
 */
import { Client } from "@upstash/qstash";
import { describeError } from "../maintenance/log.ts";
import { DELIVERY_ID_HEADER, type Delivery, type DeliveryResult, type Notifier } from "./notifier.ts";

export interface QStashNotifierOptions {
  token: string;
  /** QStash API base URL (default https://qstash.upstash.io; tests point it at a local stub). */
  baseUrl?: string;
  /** How often the SDK retries a failed call to the QStash API itself (default 3; 0 = none). */
  apiRetries?: number;
}

export function qstashNotifier(opts: QStashNotifierOptions): Notifier {
  const apiRetries = opts.apiRetries ?? 3;
  const client = new Client({
    token: opts.token,
    ...(opts.baseUrl ? { baseUrl: opts.baseUrl } : {}),
    retry: apiRetries > 0 ? { retries: apiRetries } : false,
    enableTelemetry: false,
    devMode: false,
  });
  return {
    kind: "qstash",
    async deliver(d: Delivery): Promise<DeliveryResult> {
      try {
        const res = await client.publishJSON({
          url: d.url,
          body: d.body,
          deduplicationId: d.deduplicationId,
          headers: { ...d.headers, [DELIVERY_ID_HEADER]: d.deduplicationId },
          ...(d.retries !== undefined ? { retries: d.retries } : {}),
          ...(d.notBefore !== undefined && d.notBefore > 0 ? { notBefore: Math.ceil(d.notBefore / 1000) } : {}),
          ...(d.flowControl ? { flowControl: { key: d.flowControl.key, parallelism: d.flowControl.parallelism } } : {}),
        });
        return { ok: true, messageId: res.messageId ?? null, deduplicated: res.deduplicated === true };
      } catch (e) {
        const status = typeof (e as { status?: unknown }).status === "number" ? (e as { status: number }).status : null;
        return { ok: false, error: describeError(e).message, status };
      }
    },
  };
}
