/**
 * Cron expressions for recurring schedules: the five classic fields (minute, hour, day of month,
 * month, day of week), in UTC, with `*`, lists (`1,15`), ranges (`1-5`), steps (`*\/10`, `9-17/2`),
 * month and weekday names (`JAN`, `MON`), 7 as Sunday, and the macros `@hourly`, `@daily`,
 * `@weekly`, `@monthly`, `@yearly`. As in Vixie cron, when both day fields are restricted (neither
 * starts with `*`) a day matches either of them; a field starting with `*` (such as `*\/2`) narrows
 * the other.
 */
import { ValidationError } from "./errors.ts";

export interface CronSchedule {
  /** The expression as given (macros kept). */
  readonly source: string;
  readonly minutes: ReadonlySet<number>;
  readonly hours: ReadonlySet<number>;
  readonly daysOfMonth: ReadonlySet<number>;
  readonly months: ReadonlySet<number>;
  /** 0 = Sunday. */
  readonly daysOfWeek: ReadonlySet<number>;
  readonly domRestricted: boolean;
  readonly dowRestricted: boolean;
}

const MACROS: Record<string, string> = {
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
  "@monthly": "0 0 1 * *",
  "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@hourly": "0 * * * *",
};
const MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
  /** Value the names start at (months: 1). */
  nameBase?: number;
}
const FIELDS: readonly FieldSpec[] = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day of month", min: 1, max: 31 },
  { name: "month", min: 1, max: 12, names: MONTHS, nameBase: 1 },
  { name: "day of week", min: 0, max: 7, names: DAYS, nameBase: 0 },
];

function bad(expr: string, why: string): never {
  throw new ValidationError(`cron "${expr}": ${why}`, { path: ["cron"] });
}

function value(expr: string, f: FieldSpec, token: string): number {
  const upper = token.toUpperCase();
  const named = f.names ? f.names.indexOf(upper) : -1;
  if (named >= 0) return named + (f.nameBase ?? 0);
  if (!/^\d{1,2}$/.test(token)) bad(expr, `${f.name} "${token}" is not a number${f.names ? " or a name" : ""}`);
  const n = Number(token);
  if (n < f.min || n > f.max) bad(expr, `${f.name} ${n} is outside ${f.min}-${f.max}`);
  return n;
}

function field(expr: string, f: FieldSpec, text: string): Set<number> {
  const out = new Set<number>();
  for (const part of text.split(",")) {
    const m = /^([^/]+)(?:\/(\d{1,2}))?$/.exec(part);
    if (!m) bad(expr, `${f.name} "${part}" is not a value, range or step`);
    const step = m[2] === undefined ? 1 : Number(m[2]);
    if (step < 1) bad(expr, `${f.name} step must be at least 1`);
    let lo: number;
    let hi: number;
    if (m[1] === "*") {
      [lo, hi] = [f.min, f.max];
    } else if (m[1]!.includes("-")) {
      const [a, b, ...rest] = m[1]!.split("-");
      if (rest.length > 0 || a === undefined || b === undefined) bad(expr, `${f.name} range "${m[1]}" is malformed`);
      [lo, hi] = [value(expr, f, a), value(expr, f, b)];
      if (lo > hi) bad(expr, `${f.name} range ${m[1]} runs backwards`);
    } else {
      lo = value(expr, f, m[1]!);
      hi = m[2] === undefined ? lo : f.max; // "5/15" = from 5 every 15
    }
    for (let v = lo; v <= hi; v += step) out.add(v);
  }
  return out;
}

/** Parses a cron expression; throws ValidationError naming what is wrong, or if it can never fire. */
export function parseCron(expression: string): CronSchedule {
  const source = expression.trim();
  const expanded = MACROS[source.toLowerCase()] ?? source;
  const parts = expanded.split(/\s+/);
  if (parts.length !== 5) bad(source, `needs 5 fields (minute hour day-of-month month day-of-week) or a macro such as @daily, got ${parts.length}`);
  const [minutes, hours, dom, months, dow] = FIELDS.map((f, i) => field(source, f, parts[i]!));
  if (dow!.has(7)) {
    dow!.delete(7);
    dow!.add(0);
  }
  const cron: CronSchedule = {
    source,
    minutes: minutes!,
    hours: hours!,
    daysOfMonth: dom!,
    months: months!,
    daysOfWeek: dow!,
    domRestricted: !parts[2]!.startsWith("*"),
    dowRestricted: !parts[4]!.startsWith("*"),
  };
  if (nextRun(cron, Date.UTC(2000, 0, 1)) === null) bad(source, "never fires (no such day in any year)");
  return cron;
}

function dayMatches(c: CronSchedule, d: Date): boolean {
  const dom = c.daysOfMonth.has(d.getUTCDate());
  const dow = c.daysOfWeek.has(d.getUTCDay());
  return c.domRestricted && c.dowRestricted ? dom || dow : dom && dow;
}

/**
 * The first minute strictly after `afterMs` (UTC) the schedule fires at, in ms; null when it never
 * does within 8 years (a leap-day schedule fires within that).
 */
export function nextRun(c: CronSchedule, afterMs: number): number | null {
  const d = new Date(Math.floor(afterMs / 60_000) * 60_000 + 60_000);
  const limit = afterMs + 8 * 366 * 86_400_000;
  while (d.getTime() <= limit) {
    if (!c.months.has(d.getUTCMonth() + 1)) {
      d.setUTCMonth(d.getUTCMonth() + 1, 1);
      d.setUTCHours(0, 0, 0, 0);
      continue;
    }
    if (!dayMatches(c, d)) {
      d.setUTCDate(d.getUTCDate() + 1);
      d.setUTCHours(0, 0, 0, 0);
      continue;
    }
    if (!c.hours.has(d.getUTCHours())) {
      d.setUTCHours(d.getUTCHours() + 1, 0, 0, 0);
      continue;
    }
    if (!c.minutes.has(d.getUTCMinutes())) {
      d.setUTCMinutes(d.getUTCMinutes() + 1, 0, 0);
      continue;
    }
    return d.getTime();
  }
  return null;
}
