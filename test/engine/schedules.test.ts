/**
 * Recurring schedules (Engine.putSchedule / listSchedules / deleteSchedule, fired by the tick):
 * each run enqueued once with the id <name>:<run ms>, missed runs coalesced, concurrent firers
 * making one job, bad input refused without writing. Over both transports, on a manual clock.
 */
import { describe, expect, it } from "vitest";
import { DEFAULT_QUEUES, Engine } from "../../packages/core/src/index.ts";
import { makeEngine, manualClock, rawRedis, snapshot, TRANSPORTS } from "../support/engines.ts";

const T0 = Date.parse("2026-12-04T10:02:00Z");
const ms = (iso: string) => Date.parse(iso);

describe.each(TRANSPORTS)("recurring schedules over %s", (transport) => {
  it("creates, lists, replaces and deletes schedules", async () => {
    const { engine } = makeEngine(transport, {}, manualClock(T0));
    const put = await engine.putSchedule({ name: "report", cron: "0 6 * * MON-FRI", job: { type: "report", payload: { kind: "daily" }, queue: "low_priority" } });
    expect(put).toMatchObject({ created: true, schedule: { name: "report", cron: "0 6 * * MON-FRI", nextRunAt: "2026-12-07T06:00:00.000Z", lastRunAt: null, runs: 0 } });
    expect(put.schedule.job).toMatchObject({ type: "report", payload: { kind: "daily" }, queue: "low_priority" });
    await engine.putSchedule({ name: "beat", cron: "@hourly", job: { payload: null } });
    expect((await engine.listSchedules()).map((s) => [s.name, s.nextRunAt])).toEqual([["beat", "2026-12-04T11:00:00.000Z"], ["report", "2026-12-07T06:00:00.000Z"]]);
    const again = await engine.putSchedule({ name: "report", cron: "30 6 * * *", job: { payload: { kind: "v2" } } });
    expect(again).toMatchObject({ created: false, schedule: { nextRunAt: "2026-12-05T06:30:00.000Z", job: { payload: { kind: "v2" } } } });
    expect((await engine.getSchedule("report")).cron).toBe("30 6 * * *");
    await engine.deleteSchedule("report");
    await expect(engine.getSchedule("report")).rejects.toMatchObject({ code: "schedule_not_found" });
    await expect(engine.deleteSchedule("report")).rejects.toMatchObject({ code: "schedule_not_found" });
    expect((await engine.listSchedules()).map((s) => s.name)).toEqual(["beat"]);
  });

  it("refuses a bad name, cron, job or queue, writing nothing", async () => {
    const { engine, prefix } = makeEngine(transport, {}, manualClock(T0));
    const before = await snapshot(prefix);
    const bad = [
      { name: "has space", cron: "@daily", job: { payload: {} } },
      { name: "..", cron: "@daily", job: { payload: {} } },
      { name: "ok", cron: "61 * * * *", job: { payload: {} } },
      { name: "ok", cron: "0 0 30 2 *", job: { payload: {} } },
      { name: "ok", cron: "@daily", job: { payload: {}, id: "fixed" } },
      { name: "ok", cron: "@daily", job: { payload: {}, delayMs: 5 } },
      { name: "ok", cron: "@daily", job: {} },
    ];
    for (const input of bad) await expect(engine.putSchedule(input as never), JSON.stringify(input)).rejects.toMatchObject({ code: "validation_error" });
    await expect(engine.putSchedule({ name: "ok", cron: "@daily", job: { payload: {}, queue: "nope" } })).rejects.toMatchObject({ code: "unknown_queue" });
    expect(await snapshot(prefix)).toEqual(before);
  });

  it("the tick enqueues each run once, as <name>:<run ms>, and moves the schedule on", async () => {
    const clock = manualClock(T0);
    const { engine } = makeEngine(transport, {}, clock);
    await engine.putSchedule({ name: "every-5", cron: "*/5 * * * *", job: { type: "sweep", payload: { n: 1 }, priority: "high" } });
    clock.set(ms("2026-12-04T10:04:59Z"));
    expect((await engine.tick()).scheduled).toHaveLength(0);
    clock.set(ms("2026-12-04T10:05:07Z"));
    expect((await engine.tick()).scheduled).toHaveLength(1);
    const run = ms("2026-12-04T10:05:00Z");
    const job = await engine.getJob(`every-5:${run}`);
    expect(job).toMatchObject({ status: "pending", type: "sweep", queue: "high_priority", payload: { n: 1 }, createdAt: "2026-12-04T10:05:00.000Z" });
    expect(await engine.getSchedule("every-5")).toMatchObject({ nextRunAt: "2026-12-04T10:10:00.000Z", lastRunAt: "2026-12-04T10:05:00.000Z", lastJobId: `every-5:${run}`, runs: 1 });
    expect((await engine.tick()).scheduled).toHaveLength(0); // the same minute again: nothing new
    expect((await engine.stats(["high_priority"]))[0]!.pending).toBe(1);
  });

  it("an outage's missed runs fire once, late, then the schedule continues from now", async () => {
    const clock = manualClock(T0);
    const { engine } = makeEngine(transport, {}, clock);
    await engine.putSchedule({ name: "m", cron: "*/5 * * * *", job: { payload: {} } });
    clock.set(ms("2026-12-04T10:31:00Z")); // runs at 10:05 … 10:30 were missed
    expect((await engine.tick()).scheduled).toHaveLength(1);
    expect((await engine.getSchedule("m")).nextRunAt).toBe("2026-12-04T10:35:00.000Z");
    expect((await engine.stats(["default"]))[0]!.pending).toBe(1);
  });

  it("firers running at once enqueue one job per run", async () => {
    const clock = manualClock(T0);
    const a = makeEngine(transport, {}, clock);
    await a.engine.putSchedule({ name: "race", cron: "* * * * *", job: { payload: {} } });
    clock.set(ms("2026-12-04T10:03:30Z"));
    const reports = await Promise.all(Array.from({ length: 5 }, () => a.engine.fireSchedules()));
    expect(reports.flatMap((r) => r.jobs)).toHaveLength(1);
    expect(reports.reduce((n, r) => n + r.skipped, 0)).toBe(4);
    expect((await a.engine.stats(["default"]))[0]!.pending).toBe(1);
    // deleting the schedule leaves the job it enqueued
    await a.engine.deleteSchedule("race");
    expect((await a.engine.getJob(`race:${ms("2026-12-04T10:03:00Z")}`)).status).toBe("pending");
  });

  it("replacing keeps the schedule's past and a run already due; the new job is what that run enqueues", async () => {
    const clock = manualClock(Date.parse("2026-12-04T01:59:00Z"));
    const { engine } = makeEngine(transport, {}, clock);
    await engine.putSchedule({ name: "nightly", cron: "0 2 * * *", job: { payload: { v: 1 } } });
    clock.set(Date.parse("2026-12-04T02:00:30Z"));
    expect((await engine.tick()).scheduled).toHaveLength(1); // 12-04 02:00
    clock.set(Date.parse("2026-12-05T02:00:20Z")); // the 12-05 run is due, not fired yet: a redeploy re-saves it now
    const replaced = await engine.putSchedule({ name: "nightly", cron: "0 2 * * *", job: { payload: { v: 2 } } });
    expect(replaced.schedule).toMatchObject({ runs: 1, lastRunAt: "2026-12-04T02:00:00.000Z", nextRunAt: "2026-12-05T02:00:00.000Z", createdAt: "2026-12-04T01:59:00.000Z" });
    expect((await engine.tick()).scheduled).toHaveLength(1);
    expect((await engine.getJob(`nightly:${Date.parse("2026-12-05T02:00:00Z")}`)).payload).toEqual({ v: 2 });
  });

  it("a damaged record or a schedule that cannot fire neither stops the tick nor holds back the others", async () => {
    const clock = manualClock(Date.parse("2026-12-04T10:00:30Z"));
    const tmp = { ...DEFAULT_QUEUES.find((q) => q.name === "default")!, name: "tmp", rank: 50 };
    const withTmp = makeEngine(transport, { queues: [...DEFAULT_QUEUES, tmp] }, clock);
    for (let i = 0; i < 3; i++) await withTmp.engine.putSchedule({ name: `gone-${i}`, cron: "* * * * *", job: { payload: {}, queue: "tmp" } });
    await withTmp.engine.putSchedule({ name: "good", cron: "* * * * *", job: { payload: {} } });
    await rawRedis().hset(withTmp.engine.keys.schedules(), "broken", "{not json");
    await rawRedis().zadd(withTmp.engine.keys.schedulesDue(), 0, "broken");
    // the same keys without the "tmp" queue; fire at most 2 per call, so failures must not hold the head
    const engine = new Engine({ redis: withTmp.port, settings: { keyPrefix: withTmp.prefix }, now: clock.now });
    clock.set(Date.parse("2026-12-04T10:01:05Z"));
    const first = await engine.fireSchedules(2);
    expect(first.failed.map((f) => f.name)).toEqual(["broken", "gone-0"]);
    expect(first.failed[0]!.error).toMatch(/unreadable schedule record/);
    const second = await engine.fireSchedules(2);
    expect(second.failed.map((f) => f.name)).toEqual(["gone-1", "gone-2"]);
    const third = await engine.fireSchedules(2);
    expect(third).toMatchObject({ jobs: [{ id: expect.stringMatching(/^good:\d+$/) }], failed: [] }); // "good", no longer behind them
    // listing skips the damaged record instead of failing
    expect((await engine.listSchedules()).map((s) => s.name)).toEqual(["gone-0", "gone-1", "gone-2", "good"]);
    // a minute later the failed ones are tried again (and fail again, reported)
    clock.advance(61_000);
    const again = await engine.tick();
    expect(again.scheduleFailures.map((f) => f.name).sort()).toEqual(["broken", "gone-0", "gone-1", "gone-2"]);
  });
});
