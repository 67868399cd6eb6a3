/**
 * The small error vocabulary of Workstream. Every error a caller can act on has a stable `code`;
 * transports map codes to HTTP statuses (functions/) or exit codes (CLI) in one place each.
 */
export type ErrorCode =
  | "validation_error"
  | "unknown_queue"
  | "payload_too_large"
  | "job_not_found"
  | "lease_lost"
  | "not_cancellable"
  | "not_in_dlq"
  | "request_not_found"
  | "request_expired"
  | "already_answered"
  | "config_error"
  | "redis_error"
  // The HTTP API's own codes (packages/core/src/api, functions/):
  | "bad_request"
  | "invalid_json"
  | "unauthorized"
  | "forbidden"
  | "not_found"
  | "method_not_allowed"
  | "unsupported_media_type"
  | "api_key_not_found"
  | "worker_not_found"
  | "schedule_not_found"
  | "encryption_unavailable"
  | "internal_error";

export class WorkstreamError extends Error {
  readonly code: ErrorCode;
  /** Structured detail for clients (e.g. which field, the job's current status). */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.details = details;
  }
}

export class ValidationError extends WorkstreamError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super("validation_error", message, details);
  }
}

export class UnknownQueueError extends WorkstreamError {
  constructor(queue: string, known: readonly string[]) {
    super("unknown_queue", `unknown queue "${queue}" (known: ${known.join(", ")})`, { queue, known });
  }
}

export class PayloadTooLargeError extends WorkstreamError {
  constructor(bytes: number, limit: number) {
    super("payload_too_large", `payload is ${bytes} bytes, the limit is ${limit}`, { bytes, limit });
  }
}

export class JobNotFoundError extends WorkstreamError {
  constructor(jobId: string) {
    super("job_not_found", `job "${jobId}" not found`, { jobId });
  }
}

/** The caller's lease token is not the job's current one: the job was reclaimed, finished or cancelled. */
export class LeaseLostError extends WorkstreamError {
  constructor(jobId: string, status: string | null) {
    super("lease_lost", `lease on job "${jobId}" is no longer held (job is ${status ?? "gone"})`, { jobId, status });
  }
}

export class NotCancellableError extends WorkstreamError {
  constructor(jobId: string, status: string) {
    super("not_cancellable", `job "${jobId}" is already ${status}`, { jobId, status });
  }
}

export class NotInDlqError extends WorkstreamError {
  constructor(jobId: string, status: string | null) {
    super("not_in_dlq", `job "${jobId}" is not in the dead-letter queue (job is ${status ?? "gone"})`, { jobId, status });
  }
}

/** No valid API key: missing, malformed, unknown, wrong secret, expired or revoked (the reason stays server-side). */
export class UnauthorizedError extends WorkstreamError {
  constructor(message = "a valid API key is required (Authorization: Bearer ws_<id>_<secret>)") {
    super("unauthorized", message);
  }
}

/** A valid key whose roles or permission levels do not allow the operation. */
export class ForbiddenError extends WorkstreamError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super("forbidden", message, details);
  }
}

export class ApiKeyNotFoundError extends WorkstreamError {
  constructor(keyId: string) {
    super("api_key_not_found", `API key "${keyId}" not found`, { keyId });
  }
}

export class WorkerNotFoundError extends WorkstreamError {
  constructor(workerId: string) {
    super("worker_not_found", `worker "${workerId}" is not registered (or its record expired)`, { workerId });
  }
}

/** A producer marked fields sensitive but no payload encryption key is configured. */
export class EncryptionUnavailableError extends WorkstreamError {
  constructor() {
    super("encryption_unavailable", "payload encryption is not configured on this deployment (WORKSTREAM_ENCRYPTION_KEYS)");
  }
}

/** Redis could not be reached (the TCP client gave up reconnecting for this command). */
export class RedisUnavailableError extends WorkstreamError {
  constructor(address: string, cause: string) {
    super("redis_error", `could not reach Redis at ${address}: ${cause}`, { address });
  }
}

export class ConfigError extends WorkstreamError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super("config_error", message, details);
  }
}

/**
 * Thrown by a job handler to say "retrying will not help" (bad input, a missing repository…):
 * the job goes straight to the dead-letter queue.
 */
export class NonRetryableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "NonRetryableError";
  }
}

/** Thrown by a job handler to ask for a retry after a given delay (a rate limit's Retry-After). */
export class RetryAfterError extends Error {
  readonly retryAfterMs: number;
  constructor(message: string, retryAfterMs: number, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "RetryAfterError";
    this.retryAfterMs = retryAfterMs;
  }
}
