/**
 * Property-based fuzzing (fast-check, 2000 runs in all): malformed bodies at every route, with a
 * key of the right role so each request gets past authentication to the input checks. Every reply
 * must be a 4xx with a stable error code — never a 5xx or a crash — and Redis under the test prefix
 * must be exactly as before (nothing written). Also random methods and paths through the router.
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { OPERATIONS, parseKeyring, type Keyring, type OperationName } from "../../packages/core/src/index.ts";
import { dispatch } from "../../functions/_lib/router.ts";
import { API_ROUTES } from "../../functions/routes.ts";
import { snapshot } from "../support/engines.ts";
import { call, configureApiEnv, createKey, SAMPLE, toReply, v2Event, type ApiTestEnv } from "./support.ts";

let env: ApiTestEnv;
let keyring: Keyring;
const keyFor: Partial<Record<string, string>> = {};

/** Redis under the prefix, without the keys' last_used_at stamps (refreshed at most once a minute by design). */
async function state(): Promise<Record<string, unknown>> {
  const snap = await snapshot(env.prefix);
  for (const [k, v] of Object.entries(snap)) {
    if (k.includes(":apikey:") && v && typeof v === "object") delete (v as Record<string, unknown>)["last_used_at"];
  }
  return snap;
}

beforeAll(async () => {
  env = configureApiEnv();
  keyring = parseKeyring(env.encryptionKeys, "WORKSTREAM_ENCRYPTION_KEYS");
  keyFor["admin"] = env.adminKey;
  keyFor["producer"] = await createKey(env.adminKey, "fuzz-producer", ["producer"]);
  keyFor["worker"] = await createKey(env.adminKey, "fuzz-worker", ["worker"], ["autonomous", "supervised", "human_required"]);
  keyFor["controller"] = await createKey(env.adminKey, "fuzz-controller", ["controller"]);
});

/** Would the service accept this body for this route? (Then it is not malformed and is skipped.) */
function accepted(name: OperationName, text: string, contentType: string | null): boolean {
  const op = OPERATIONS[name];
  if (text.trim() === "") return !op.body?.required;
  if (!op.body || contentType !== "application/json") return false;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return false;
  }
  try {
    op.parse({ params: SAMPLE[name].params ?? {}, query: SAMPLE[name].query ?? {}, body: value }, { keyring });
    return true;
  } catch {
    return false;
  }
}

const mutatedSample = (name: OperationName) => {
  const base = (SAMPLE[name].body ?? {}) as Record<string, unknown>;
  const keys = [...Object.keys(base), "payload", "token", "jobs", "ids", "sensitive", "queue", "error", "__proto__", "constructor"];
  return fc
    .tuple(fc.constantFrom(...keys), fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.constant(undefined)), fc.boolean())
    .map(([k, v, drop]) => {
      const copy: Record<string, unknown> = { ...base };
      if (drop) delete copy[k];
      else copy[k] = v;
      return JSON.stringify(copy);
    });
};

const bodies = (name: OperationName) =>
  fc.oneof(
    fc.string({ maxLength: 200 }),
    fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
    mutatedSample(name),
    fc.constantFrom("{", "[1,", "null", '{"payload":', "\u0000", '{"a":1}garbage', "[]".repeat(1000), "[".repeat(100) + "]".repeat(100)),
  );

const RUNS_PER_ROUTE = Math.floor(1800 / API_ROUTES.length);

describe("fuzz: malformed bodies at every route", () => {
  it(`${RUNS_PER_ROUTE} malformed bodies per route (${API_ROUTES.length} routes): only 4xx, stable codes, nothing written`, async () => {
    const before = await state();
    const statuses = new Map<number, number>();
    for (const route of API_ROUTES) {
      const name = route.name as OperationName;
      const role = OPERATIONS[name].roles[0]!;
      await fc.assert(
        fc.asyncProperty(bodies(name), fc.constantFrom<string | null>("application/json", "application/json", "text/plain", null), async (text, contentType) => {
          fc.pre(!accepted(name, text, contentType));
          const r = await call(name, { ...SAMPLE[name], body: undefined, rawBody: text, contentType, key: keyFor[role]! });
          statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
          expect(r.status, `${name} ${JSON.stringify(text).slice(0, 200)} → ${JSON.stringify(r.body)}`).toBeGreaterThanOrEqual(400);
          expect(r.status).toBeLessThan(500);
          expect(r.body.error.code).toMatch(/^[a-z_]+$/);
          expect(r.body.error.message.length).toBeGreaterThan(0);
        }),
        { numRuns: RUNS_PER_ROUTE, seed: 20261123 },
      );
    }
    expect([...statuses.keys()].every((s) => [400, 413, 415].includes(s))).toBe(true);
    expect(await state()).toEqual(before);
  });

  it("200 random methods and paths through the router: 400/401/404/405, never 5xx", async () => {
    const segment = fc.oneof(fc.constantFrom("v1", "jobs", "dlq", "batch", "requests", "keys", "%zz", "..", ""), fc.string({ maxLength: 12 }).map(encodeURIComponent));
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("GET", "POST", "DELETE", "PUT", "PATCH", "OPTIONS"),
        fc.array(segment, { minLength: 0, maxLength: 5 }),
        async (method, segs) => {
          const r = toReply(await dispatch(v2Event(method, `/${segs.join("/")}`, {})));
          expect([400, 401, 404, 405], `${method} /${segs.join("/")} → ${JSON.stringify(r.body)}`).toContain(r.status);
          expect(r.body.error.code).toMatch(/^[a-z_]+$/);
        },
      ),
      { numRuns: 200, seed: 7 },
    );
  });
});
