import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { SCRIPTS } from "../../packages/core/src/lua/scripts.generated.ts";
import { CALLBACK_GROUP, keySpace } from "../../packages/core/src/index.ts";
import { GENERATED, renderGenerated } from "../../scripts/gen-lua.ts";
import { rawRedis } from "../support/engines.ts";

describe("Lua scripts", () => {
  it("the generated module is up to date with the .lua files (run `npm run gen:lua`)", () => {
    expect(readFileSync(GENERATED, "utf8")).toBe(renderGenerated());
  });

  it("each pinned SHA is the SHA-1 of its source, as the server computes it", async () => {
    for (const [name, s] of Object.entries(SCRIPTS)) {
      expect(createHash("sha1").update(s.source).digest("hex"), name).toBe(s.sha);
      expect(await rawRedis().script("LOAD", s.source), name).toBe(s.sha);
    }
  });

  it("every script documents its KEYS and ARGV in its header", () => {
    for (const [name, s] of Object.entries(SCRIPTS)) {
      expect(s.source, name).toMatch(/^-- \w+: /);
      expect(s.source, name).toMatch(/-- KEYS/);
      expect(s.source, name).toMatch(/Returns/);
    }
  });

  it("keys.lua builds exactly the keys keys.ts builds", async () => {
    const probe = `${SCRIPTS.stats.source.split("\n").filter((l) => !l.startsWith("--")).slice(0, 0).join("")}
local PREFIX = ARGV[1]
${readFileSync(new URL("../../packages/core/src/lua/includes/keys.lua", import.meta.url), "utf8")}
return { k_job('j-1'), k_ready('default', 'supervised'), k_delayed('q'), k_done('q'), k_failed('q'), k_dlq('q'), k_deferred('q'), k_counters('q'), k_durations('q'), K_TIMERS, k_req('r-1'), k_req_signal('r-1'), K_REQ_OPEN, K_REQ_CLOSED, k_dlq_seen('q'), K_METRICS_LAST, K_METRICS_OUTBOX, k_apikey('key1'), K_APIKEYS, K_AUDIT, K_CALLBACKS, CALLBACK_GROUP, K_SCHEDULES, K_SCHEDULES_DUE }`;
    const ks = keySpace("ws:");
    const fromLua = await rawRedis().eval(probe, 0, "ws:");
    expect(fromLua).toEqual([
      ks.job("j-1"), ks.ready("default", "supervised"), ks.delayed("q"), ks.done("q"), ks.failed("q"), ks.dlq("q"), ks.deferred("q"), ks.counters("q"), ks.durations("q"), ks.timers(), ks.request("r-1"), ks.requestSignal("r-1"), ks.requestsOpen(), ks.requestsClosed(), ks.dlqSeen("q"), ks.metricsLast(), ks.metricsOutbox(), ks.apiKey("key1"), ks.apiKeys(), ks.audit(), ks.callbacks(), CALLBACK_GROUP, ks.schedules(), ks.schedulesDue(),
    ]);
  });
  it("keys.lua builds exactly the worker registry keys keys.ts builds", async () => {
    const probe = `local PREFIX = ARGV[1]
${readFileSync(new URL("../../packages/core/src/lua/includes/keys.lua", import.meta.url), "utf8")}
return { K_WORKERS, k_worker('w-1'), k_worker_control('w-1') }`;
    const ks = keySpace("ws:");
    expect(await rawRedis().eval(probe, 0, "ws:")).toEqual([ks.workers(), ks.worker("w-1"), ks.workerControl("w-1")]);
  });
});
