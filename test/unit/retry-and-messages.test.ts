import { describe, expect, it } from "vitest";
import {
  classifyError,
  ControllerResponseMessage,
  decodeRetryPolicy,
  encodeRetryPolicy,
  isRetryable,
  NonRetryableError,
  queueForPriority,
  RetryAfterError,
  SEED1_INTERVALS,
  SEED2_BACKOFF,
  WorkerRequestMessage,
  WorkOrderMessage,
  workOrderRequest,
} from "../../packages/core/src/index.ts";

describe("error classification (seed 2's rules)", () => {
  it("retries connection problems, timeouts and generic errors", () => {
    expect(isRetryable({ name: "Error", message: "ECONNRESET" })).toBe(true);
    expect(isRetryable({ name: "TimeoutError", message: "timed out" })).toBe(true);
    expect(isRetryable({ name: "Error", message: "503 from upstream" })).toBe(true);
  });
  it("does not retry type/argument errors or invalid / not found / validation messages", () => {
    expect(isRetryable({ name: "TypeError", message: "x is undefined" })).toBe(false);
    expect(isRetryable({ name: "RangeError", message: "bad" })).toBe(false);
    expect(isRetryable({ name: "Error", message: "Invalid repository url" })).toBe(false);
    expect(isRetryable({ name: "Error", message: "branch not found" })).toBe(false);
    expect(isRetryable({ name: "Error", message: "schema validation failed" })).toBe(false);
  });
  it("honours NonRetryableError and RetryAfterError, and classifies non-Error throws", () => {
    expect(classifyError(new NonRetryableError("stop"))).toMatchObject({ retryable: false, name: "NonRetryableError" });
    expect(classifyError(new RetryAfterError("slow down", 5000))).toMatchObject({ retryable: true, retryAfterMs: 5000 });
    expect(classifyError("plain string")).toMatchObject({ name: "Error", message: "plain string", retryable: true, stack: null });
    expect(classifyError({ weird: 1 })).toMatchObject({ message: '{"weird":1}' });
  });
});

describe("retry policy encoding", () => {
  it("round-trips both kinds", () => {
    expect(encodeRetryPolicy(SEED2_BACKOFF)).toBe("exp:1000:2:300000:0.2");
    expect(encodeRetryPolicy(SEED1_INTERVALS)).toBe("fixed:60000,180000,600000");
    expect(decodeRetryPolicy(encodeRetryPolicy(SEED2_BACKOFF))).toEqual(SEED2_BACKOFF);
    expect(decodeRetryPolicy(encodeRetryPolicy(SEED1_INTERVALS))).toEqual(SEED1_INTERVALS);
  });
});

const workOrder = {
  id: "4b8c3b9e-1f2a-4c1e-9a53-1f0b2c3d4e5f",
  task_id: "task-1",
  work_order_id: "order-1",
  task_type: "feature",
  permission_level: "supervised",
  priority: "critical",
  repository_url: "https://github.com/test/repo",
  branch_name: "main",
  title: "Test task",
  description: "Test description",
  created_at: "2026-11-23T12:00:00Z",
};

describe("seed messages", () => {
  it("a work order takes the seed's defaults and maps onto an enqueue request", () => {
    const wo = WorkOrderMessage.parse(workOrder);
    expect(wo).toMatchObject({ issue_number: null, pr_number: null, files: [], requirements: [], timeout_seconds: 3600, max_retries: 3, retry_count: 0, payload: {}, metadata: {} });
    const req = workOrderRequest({ ...wo, retry_count: 1 });
    expect(req).toMatchObject({ id: "order-1", priority: "critical", type: "work_order", permissionLevel: "supervised", timeoutSeconds: 3600, maxRetries: 2 });
    expect(queueForPriority(wo.priority)).toBe("high_priority");
  });
  it("rejects bad enums, ids and dates", () => {
    expect(WorkOrderMessage.safeParse({ ...workOrder, task_type: "chore" }).success).toBe(false);
    expect(WorkOrderMessage.safeParse({ ...workOrder, work_order_id: "has space" }).success).toBe(false);
    expect(WorkOrderMessage.safeParse({ ...workOrder, created_at: "yesterday" }).success).toBe(false);
    expect(WorkOrderMessage.safeParse({ ...workOrder, title: undefined }).success).toBe(false);
  });
  it("worker requests and controller responses carry every seed field", () => {
    const req = WorkerRequestMessage.parse({
      id: "r1", worker_id: "w1", work_order_id: "order-1", task_id: "task-1", request_type: "approval", message: "ok?",
      created_at: "2026-11-23T12:00:00Z", expires_at: "2026-11-23T12:30:00Z", conversation_id: "c1",
    });
    expect(req).toMatchObject({ context: {}, parent_message_id: null });
    const resp = ControllerResponseMessage.parse({
      id: "p1", request_id: "r1", worker_id: "w1", work_order_id: "order-1", response_type: "rejection", message: "no",
      generated_by: "automated", created_at: "2026-11-23T12:01:00Z",
    });
    expect(resp).toMatchObject({ instructions: [], responder_id: null });
    expect(ControllerResponseMessage.safeParse({ ...resp, generated_by: "robot" }).success).toBe(false);
  });
});
