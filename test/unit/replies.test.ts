import { describe, expect, it } from "vitest";
import { ReplyShapeError, readEnqueueReply } from "../../packages/core/src/claimed.ts";

describe("enqueue.lua reply decoding", () => {
  it("reads each job's status and created flag in input order", () => {
    expect(readEnqueueReply(["ok", "pending", 1, "default", "completed", 0, "high_priority", "scheduled", "1", "default"], 3)).toEqual({
      ok: true,
      jobs: [
        { status: "pending", created: true, queue: "default" },
        { status: "completed", created: false, queue: "high_priority" },
        { status: "scheduled", created: true, queue: "default" },
      ],
    });
  });

  it("reads the error that wrote nothing", () => {
    expect(readEnqueueReply(["error", "dependency_failed", "parent-1", "failed"], 2)).toEqual({ ok: false, code: "dependency_failed", id: "parent-1", status: "failed" });
    expect(readEnqueueReply(["error", "job_not_found", "ghost", ""], 1)).toMatchObject({ ok: false, code: "job_not_found", id: "ghost" });
  });

  it.each([
    ["not an array", '{"ok":true}', 1],
    ["too few items", ["ok", "pending", 1], 1],
    ["too many items", ["ok", "pending", 1, "default", "pending"], 1],
    ["an unknown status", ["ok", "running", 1, "default"], 1],
    ["a created flag that is not an integer", ["ok", "pending", "yes", "default"], 1],
    ["a queue that is not a string", ["ok", "pending", 1, 7], 1],
    ["an unknown error code", ["error", "boom", "x", ""], 1],
    ["a short error", ["error", "job_not_found", "x"], 1],
    ["an unknown head", ["nope"], 0],
  ])("refuses %s", (_what, raw, n) => {
    expect(() => readEnqueueReply(raw, n)).toThrow(ReplyShapeError);
  });
});
