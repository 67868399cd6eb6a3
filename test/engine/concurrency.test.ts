import { describe, expect, it } from "vitest";
import { Engine } from "../../packages/core/src/index.ts";
import { TRANSPORTS, makeEngine, openPort, type Transport } from "../support/engines.ts";

/**
 * Many claimers race over one queue through separate connections. Leases are short and the clock
 * moves, so jobs are reclaimed while their first holder still works: a holder whose lease was lost
 * must be refused, and no job may ever have two holders whose ack would succeed.
 */
describe.each(TRANSPORTS)("racing claimers over %s", (transport: Transport) => {
  it("never lets two holders finish the same job, and every job ends in exactly one terminal state", async () => {
    const JOBS = 300;
    const WORKERS = 12;
    const base = makeEngine(transport);
    await base.engine.enqueueBatch(Array.from({ length: JOBS }, (_, i) => ({ id: `c${i}`, payload: { i }, retry: { kind: "fixed" as const, intervalsMs: [0] } })));
    const engines = Array.from({ length: WORKERS }, () => new Engine({ redis: openPort(transport), settings: { keyPrefix: base.prefix }, now: base.clock.now }));

    const completions = new Map<string, number>();
    const lost: string[] = [];
    const deadline = Date.now() + 60_000;
    await Promise.all(
      engines.map(async (engine, w) => {
        for (let n = 0; n < JOBS * 2 && Date.now() < deadline; n++) {
          const c = await engine.claim({ workerId: `w${w}`, leaseMs: 50 });
          if (c.status === "empty") {
            if (c.nextTimerAt === null) return;
            base.clock.advance(20); // let leases run out so reclaims race with acks
            continue;
          }
          const outcome = n % 7 === 0 ? "fail" : "ack";
          try {
            if (outcome === "ack") {
              await engine.ack(c.job.id, c.lease.token, { by: w });
              completions.set(c.job.id, (completions.get(c.job.id) ?? 0) + 1);
            } else {
              await engine.fail(c.job.id, c.lease.token, { error: { message: "transient" } });
            }
          } catch (e) {
            if ((e as { code?: string }).code !== "lease_lost") throw e;
            lost.push(c.job.id);
          }
        }
      }),
    );
    for (let i = 0; i < JOBS; i++) {
      const job = await base.engine.getJob(`c${i}`);
      expect(["completed", "failed"]).toContain(job.status);
      if (job.status === "completed") expect(completions.get(`c${i}`)).toBe(1);
      else expect(completions.has(`c${i}`)).toBe(false);
    }
    const [s] = await base.engine.stats(["default"]);
    expect(s).toMatchObject({ pending: 0, started: 0, scheduled: 0 });
    expect(s!.finished + s!.failed).toBe(JOBS);
  });
});
