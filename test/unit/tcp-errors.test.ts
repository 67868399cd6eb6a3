/**
 * The TCP transport when Redis is unreachable: every kind of call (scripts, the blocking stream
 * wait, the blocking list wait) gives up with RedisUnavailableError naming the address and the
 * connection's own error, never the password. A real refused connection (nothing listens on
 * 127.0.0.1:1); a low retry count keeps it quick.
 */
import { describe, expect, it } from "vitest";
import { RedisUnavailableError, tcpPort } from "../../packages/core/src/index.ts";

describe("tcpPort with Redis unreachable", () => {
  it("rejects scripts and blocking waits with RedisUnavailableError: address and cause, no password", async () => {
    const port = tcpPort("redis://:hunter2-secret@127.0.0.1:1", { maxRetriesPerRequest: 2 });
    try {
      const calls = [
        port.evalsha("0".repeat(40), [], []),
        port.eval("return 1", [], []),
        port.waitForEntries([{ key: "s", afterId: "0-0" }], 1000),
        port.waitForList!("l", 1000),
      ];
      const errors = await Promise.all(calls.map((call) => call.then(() => null, (err: unknown) => err)));
      for (const e of errors) {
        expect(e).toBeInstanceOf(RedisUnavailableError);
        expect((e as RedisUnavailableError).code).toBe("redis_error");
        expect((e as Error).message).toBe("could not reach Redis at redis://127.0.0.1:1: connect ECONNREFUSED 127.0.0.1:1");
        expect(JSON.stringify((e as RedisUnavailableError).details)).not.toContain("hunter2");
      }
    } finally {
      port.client.disconnect();
    }
  }, 20_000);
});
