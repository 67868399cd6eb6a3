/**
 * The one mapping from error codes to HTTP statuses, and the one error body shape:
 * `{ "error": { "code", "message", "details" } }`. Transports (the Lambda adapter, the local
 * server's router) only ever call `errorResponse`.
 */
import { type ErrorCode, WorkstreamError } from "../errors.ts";

export interface ApiRequest {
  method: string;
  /** Raw path, e.g. /v1/jobs/j-1/ack */
  path: string;
  /** Lower-cased header names. */
  headers: Readonly<Record<string, string>>;
  query: Readonly<Record<string, string>>;
  params: Readonly<Record<string, string>>;
  /** The body as text (already base64-decoded), or null when there is none. */
  body: string | null;
  /** Byte size of the body as received. */
  bodyBytes: number;
}

export interface ApiResponse {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export const HTTP_STATUS: Readonly<Record<ErrorCode, number>> = {
  bad_request: 400,
  invalid_json: 400,
  validation_error: 400,
  unknown_queue: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  job_not_found: 404,
  not_in_dlq: 404,
  request_not_found: 404,
  api_key_not_found: 404,
  worker_not_found: 404,
  schedule_not_found: 404,
  method_not_allowed: 405,
  lease_lost: 409,
  not_cancellable: 409,
  already_answered: 409,
  request_expired: 410,
  payload_too_large: 413,
  unsupported_media_type: 415,
  internal_error: 500,
  config_error: 500,
  encryption_unavailable: 503,
  redis_error: 503,
};

export function errorBody(code: ErrorCode, message: string, details: Readonly<Record<string, unknown>> = {}) {
  return { error: { code, message, details } };
}

/** Any thrown value → a response. Unknown errors are 500s with a generic message (logged by the caller). */
export function errorResponse(err: unknown): ApiResponse {
  if (err instanceof WorkstreamError) {
    const details = { ...err.details };
    delete details["issues"]; // zod's raw issue list: noisy and internal; `path` says which field
    return { status: HTTP_STATUS[err.code], body: errorBody(err.code, err.message, details) };
  }
  return { status: 500, body: errorBody("internal_error", "internal error") };
}

/** True for errors a client cannot have caused: worth logging with their stack. */
export function isUnexpected(err: unknown): boolean {
  return !(err instanceof WorkstreamError) || HTTP_STATUS[err.code] >= 500;
}
