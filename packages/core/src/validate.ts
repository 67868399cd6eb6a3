import type { z } from "zod";
import { ValidationError } from "./errors.ts";

/** Parses `value` with `schema`, turning a zod failure into a ValidationError that names the field. */
export function validate<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const path = [what, ...issue.path.map(String)].filter(Boolean).join(".");
  throw new ValidationError(`${path}: ${issue.message}`, { path: [what, ...issue.path], issues: r.error.issues });
}
