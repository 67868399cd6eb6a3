/**
 * The audit log: one stream entry per queue operation and per denied request — who (principal and
 * key id), what (the operation), which job, when, and the outcome. The stream is capped near
 * `maxEntries` (XADD MAXLEN ~), so it stays bounded however busy the queue is. Admins read it.
 */
import { z } from "zod";
import { WorkstreamError } from "../errors.ts";
import type { KeySpace } from "../keys.ts";
import { luaList, pairsToRecord, type ScriptRunner } from "./runner.ts";

export interface AuditEvent {
  principal: string;
  keyId: string | null;
  /** The operation (the API route's name, e.g. "ack"). */
  action: string;
  jobId: string | null;
  /** "ok", or the error code the caller got. */
  outcome: string;
  /** HTTP status returned; 0 for an operation not made over HTTP (the CLI). */
  status: number;
  /** Small structured extras (batch ids, replay outcomes); truncated to 2 KiB of JSON. */
  details?: Record<string, unknown>;
}

export interface AuditEntry extends Omit<AuditEvent, "details"> {
  id: string;
  at: string;
  details: Record<string, unknown> | null;
}

export const AuditQuery = z.object({
  limit: z.number().int().min(1).max(500).default(100),
  /** From a previous page's nextCursor. */
  cursor: z.string().regex(/^\d+-\d+$/, "cursor: not a cursor from a previous page").optional(),
  principal: z.string().max(64).optional(),
  action: z.string().max(64).optional(),
  jobId: z.string().max(128).optional(),
});
export type AuditQuery = z.input<typeof AuditQuery>;

const ListReply = z.object({
  entries: z.preprocess(luaList, z.array(z.tuple([z.string(), z.array(z.string())]))),
  next: z.union([z.string(), z.literal(false)]),
});

export const DEFAULT_AUDIT_MAX_ENTRIES = 100_000;

export class AuditLog {
  constructor(
    private readonly run: ScriptRunner,
    private readonly keys: KeySpace,
    private readonly maxEntries: number = DEFAULT_AUDIT_MAX_ENTRIES,
  ) {}

  async append(e: AuditEvent): Promise<void> {
    let details = e.details === undefined ? "" : JSON.stringify(e.details);
    if (details.length > 2048) details = JSON.stringify({ truncated: true, preview: details.slice(0, 1900) });
    await this.run("audit_append", [this.keys.audit()], [
      this.maxEntries,
      "principal", e.principal,
      "key", e.keyId ?? "",
      "action", e.action,
      "job", e.jobId ?? "",
      "outcome", e.outcome,
      "status", e.status,
      "details", details,
    ]);
  }

  /** Newest first. */
  async list(query: AuditQuery = {}): Promise<{ entries: AuditEntry[]; nextCursor: string | null }> {
    const q = AuditQuery.parse(query);
    const reply = ListReply.parse(
      JSON.parse(
        await this.run("audit_list", [this.keys.audit()], [
          q.cursor ? `(${q.cursor}` : "+",
          q.limit,
          Math.max(1000, q.limit * 10),
          q.principal ?? "",
          q.action ?? "",
          q.jobId ?? "",
        ]),
      ),
    );
    return {
      entries: reply.entries.map(([id, flat]) => {
        const f = pairsToRecord(flat);
        let details: Record<string, unknown> | null = null;
        try {
          details = f["details"] ? (JSON.parse(f["details"]) as Record<string, unknown>) : null;
        } catch {
          details = { unparsable: f["details"] };
        }
        return {
          id,
          at: new Date(Number(f["at"] ?? 0)).toISOString(),
          principal: f["principal"] ?? "",
          keyId: f["key"] || null,
          action: f["action"] ?? "",
          jobId: f["job"] || null,
          outcome: f["outcome"] ?? "",
          status: Number(f["status"] ?? 0),
          details,
        };
      }),
      nextCursor: reply.next || null,
    };
  }
}

/** Who records an audited call, and where a failed audit write goes. */
export interface AuditedCallOptions<T> {
  principal: string;
  action: string;
  /** The job concerned; a function of the result when only the call knows it (a generated id). */
  jobId: string | null | ((result: T) => string | null);
  /** Small structured extras from the result. */
  details?: (result: T) => Record<string, unknown>;
  record: (event: AuditEvent) => Promise<void>;
  /** The call keeps its result when the audit write fails: report it here. */
  onRecordError: (error: unknown, event: AuditEvent) => void;
}

/**
 * Runs a state-changing call made outside the HTTP API (SDK, CLI) and records it as the API records
 * its requests: outcome "ok" with `details`, or the error code the caller got (the error is
 * rethrown), status 0, no key id.
 */
export async function auditedCall<T>(opts: AuditedCallOptions<T>, fn: () => Promise<T>): Promise<T> {
  const write = async (outcome: string, jobId: string | null, details?: Record<string, unknown>) => {
    const event: AuditEvent = { principal: opts.principal, keyId: null, action: opts.action, jobId, outcome, status: 0, ...(details ? { details } : {}) };
    try {
      await opts.record(event);
    } catch (e) {
      opts.onRecordError(e, event);
    }
  };
  let result: T;
  try {
    result = await fn();
  } catch (e) {
    await write(e instanceof WorkstreamError ? e.code : "error", typeof opts.jobId === "function" ? null : opts.jobId);
    throw e;
  }
  await write("ok", typeof opts.jobId === "function" ? opts.jobId(result) : opts.jobId, opts.details?.(result));
  return result;
}
