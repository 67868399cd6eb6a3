/** Invariants of the stage settings that no single infra assertion would show. Needs no .sst. */
import { describe, expect, it } from "vitest";
import { settingsFor } from "../../infra/settings.ts";

describe.each(["prod", "dev", "pr-42"])("settings for %s", (stage) => {
  const s = settingsFor(stage);

  it("lets the worker finish draining before ECS kills it", () => {
    expect(s.worker.shutdownGraceMs).toBeLessThan(s.worker.stopTimeoutSeconds * 1000);
    expect(s.worker.stopTimeoutSeconds).toBeLessThanOrEqual(120); // Fargate's maximum
  });

  it("keeps at least one worker and a sane task range", () => {
    expect(s.worker.minTasks).toBeGreaterThanOrEqual(1);
    expect(s.worker.maxTasks).toBeGreaterThanOrEqual(s.worker.minTasks);
  });

  it("publishes metrics per stage", () => {
    expect(s.metricsNamespace).toBe(`Workstream/${stage}`);
  });
});

describe("stage awareness", () => {
  it("keeps every non-prod stage small and on Spot", () => {
    const prod = settingsFor("prod");
    for (const stage of ["dev", "pr-42", "alice"]) {
      const dev = settingsFor(stage);
      expect(dev.isProd).toBe(false);
      expect(dev.worker.spot).toBe(true);
      expect(dev.worker.maxTasks).toBeLessThan(prod.worker.maxTasks);
      expect(parseFloat(dev.worker.cpu)).toBeLessThan(parseFloat(prod.worker.cpu));
    }
    expect([prod.worker.cpu, prod.worker.memory, prod.worker.minTasks, prod.worker.maxTasks]).toEqual(["1 vCPU", "2 GB", 1, 20]);
  });

  it("uses the agreed default thresholds", () => {
    expect(settingsFor("prod").alarms).toEqual({ dlqDepth: 0, queueDepth: 100, jobsFailed: 10, failedPeriodSeconds: 300 });
    expect(settingsFor("prod").scaling).toEqual({ targetBacklogPerWorker: 4, scaleInCooldownSeconds: 300, scaleOutCooldownSeconds: 60 });
  });
});
