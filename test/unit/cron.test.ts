import { describe, expect, it } from "vitest";
import { nextRun, parseCron } from "../../packages/core/src/cron.ts";

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
/** The next n runs after `from`. */
function runs(expr: string, from: string, n: number): string[] {
  const c = parseCron(expr);
  const out: string[] = [];
  let t = at(from);
  for (let i = 0; i < n; i++) {
    const next = nextRun(c, t);
    if (next === null) break;
    out.push(iso(next)!);
    t = next;
  }
  return out;
}

describe("cron expressions", () => {
  it("fires on the next matching minute, strictly after the given time", () => {
    expect(runs("*/15 * * * *", "2026-12-04T10:07:30Z", 3)).toEqual(["2026-12-04T10:15:00.000Z", "2026-12-04T10:30:00.000Z", "2026-12-04T10:45:00.000Z"]);
    expect(runs("0 9 * * *", "2026-12-04T09:00:00Z", 2)).toEqual(["2026-12-05T09:00:00.000Z", "2026-12-06T09:00:00.000Z"]);
    expect(runs("30 9-17/4 * * MON-FRI", "2026-12-04T12:00:00Z", 4)).toEqual([
      "2026-12-04T13:30:00.000Z", "2026-12-04T17:30:00.000Z", "2026-12-07T09:30:00.000Z", "2026-12-07T13:30:00.000Z",
    ]);
  });

  it("knows macros, names, 7 as Sunday, lists and month ends", () => {
    expect(runs("@daily", "2026-12-31T23:59:00Z", 1)).toEqual(["2027-01-01T00:00:00.000Z"]);
    expect(runs("@hourly", "2026-12-04T10:00:00Z", 1)).toEqual(["2026-12-04T11:00:00.000Z"]);
    expect(runs("@weekly", "2026-12-04T00:00:00Z", 1)).toEqual(["2026-12-06T00:00:00.000Z"]); // a Sunday
    expect(runs("0 0 * * 7", "2026-12-04T00:00:00Z", 1)).toEqual(["2026-12-06T00:00:00.000Z"]);
    expect(runs("0 12 1,15 jan,jul *", "2026-12-04T00:00:00Z", 3)).toEqual(["2027-01-01T12:00:00.000Z", "2027-01-15T12:00:00.000Z", "2027-07-01T12:00:00.000Z"]);
    expect(runs("0 0 31 * *", "2027-01-31T00:00:00Z", 2)).toEqual(["2027-03-31T00:00:00.000Z", "2027-05-31T00:00:00.000Z"]);
    expect(runs("0 0 29 2 *", "2026-12-04T00:00:00Z", 1)).toEqual(["2028-02-29T00:00:00.000Z"]);
  });

  it("a day field starting with * narrows the other instead (Vixie cron)", () => {
    // Mondays that fall on an odd date, not every odd date or Monday
    expect(runs("0 9 */2 * MON", "2026-12-01T00:00:00Z", 3)).toEqual(["2026-12-07T09:00:00.000Z", "2026-12-21T09:00:00.000Z", "2027-01-11T09:00:00.000Z"]);
  });

  it("matches either day field when both are restricted (Vixie cron)", () => {
    // the 13th, or any Friday
    expect(runs("0 0 13 * FRI", "2026-12-01T00:00:00Z", 4)).toEqual([
      "2026-12-04T00:00:00.000Z", "2026-12-11T00:00:00.000Z", "2026-12-13T00:00:00.000Z", "2026-12-18T00:00:00.000Z",
    ]);
  });

  it.each([
    ["", /needs 5 fields/],
    ["* * * *", /needs 5 fields/],
    ["60 * * * *", /minute 60 is outside 0-59/],
    ["* 24 * * *", /hour 24/],
    ["* * 0 * *", /day of month 0/],
    ["* * * 13 *", /month 13/],
    ["* * * * 8", /day of week 8/],
    ["5-1 * * * *", /runs backwards/],
    ["*/0 * * * *", /step must be at least 1/],
    ["a * * * *", /minute "a" is not a number/],
    ["* * * FOO *", /month "FOO" is not a number or a name/],
    ["0 0 30 2 *", /never fires/],
    ["@fortnightly", /needs 5 fields/],
  ])("refuses %j", (expr, why) => {
    expect(() => parseCron(expr)).toThrow(why);
  });
});
