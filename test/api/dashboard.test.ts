/**
 * The web dashboard (`GET /dashboard`): the real handler's page and security headers, the CSP
 * hashes against the inline script and style, the local HTTP server passing the HTML through, and
 * the page's script run in `node:vm`:
 * - every API call it can make is a route of functions/routes.ts with that method;
 * - its render functions escape hostile job data and render real API responses — fetched with the
 *   very URLs and bodies the script builds, through the router and the real handlers, against the
 *   Upstash REST stand-in;
 * - its DOM layer, against a minimal fake DOM whose `fetch` goes to the same router: the key stays
 *   out of URLs, refusals are shown, a bad key signs out.
 * Real DOM events, the CSP in force and layout-independent behaviour in Chromium: dashboard-browser.test.ts.
 */
import { createHash } from "node:crypto";
import vm from "node:vm";
import type { APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { beforeAll, describe, expect, it } from "vitest";
import { ApiSchemas, WorkerRegistry } from "../../packages/core/src/index.ts";
import { DASHBOARD_CSP, DASHBOARD_HTML, DASHBOARD_SCRIPT, DASHBOARD_STYLE } from "../../packages/core/src/dashboard/page.ts";
import { startHttpApi } from "../../packages/local/src/http-server.ts";
import { devBanner } from "../../packages/local/src/banner.ts";
import { dispatch, matchRoute } from "../../functions/_lib/router.ts";
import { ROUTES } from "../../functions/routes.ts";
import { openPort } from "../support/engines.ts";
import { call, configureApiEnv, createKey, handlerOf, v2Event, type ApiTestEnv } from "./support.ts";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the script's exports, called across the vm boundary
type Dash = Record<string, any>;

/** Hostile text as an attacker would put it in job data: markup, an event handler, every quote. */
const H = `<img src=x onerror=alert(1)>"'\`x`;
const escapeHtml = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;").replace(/`/g, "&#96;");
/** H as the page may show it: escaped as text, or escaped inside pretty-printed JSON. */
const SAFE_FORMS = [escapeHtml(H), escapeHtml(JSON.stringify(H).slice(1, -1))];
const ALLOWED_TAGS = new Set([
  "table", "thead", "tbody", "tr", "th", "td", "p", "span", "button", "code", "pre", "dl", "dt", "dd", "div", "h3", "h4",
  "strong", "input", "details", "summary", "article", "form", "label", "select", "option", "textarea",
]);

/** Asserts html shows H only escaped: no tag but the script's own, no event handler left once H's safe forms are removed. */
function expectNoInjection(html: string): void {
  const tags = new Set([...html.matchAll(/<\/?([a-zA-Z][a-zA-Z0-9-]*)/g)].map((m) => m[1]!.toLowerCase()));
  for (const t of tags) expect(ALLOWED_TAGS, `tag <${t}> in ${html.slice(0, 300)}`).toContain(t);
  let rest = html;
  for (const safe of SAFE_FORMS) rest = rest.split(safe).join("");
  expect(rest).not.toMatch(/onerror|<img|alert\(1\)/i);
}

/** Every string value (and, with keys=true, every key) with H appended: data an attacker shaped. */
function hostile(v: unknown, keys = false): unknown {
  if (typeof v === "string") return v + H;
  if (Array.isArray(v)) return v.map((x) => hostile(x, keys));
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [keys ? k + H : k, hostile(x)]));
  return v;
}

/** Runs the page's script as a browser would load it, minus the DOM: only the pure layer runs. */
function loadScript(globals: Record<string, unknown> = {}): { dash: Dash; ctx: vm.Context } {
  const ctx = vm.createContext({ ...globals });
  vm.runInContext(DASHBOARD_SCRIPT, ctx, { filename: "dashboard.js" });
  return { dash: ctx["WorkstreamDashboard"] as Dash, ctx };
}

/** The secret part of a ws_<id>_<secret> key (the secret may itself hold "_"). */
const keySecret = (key: string) => key.split("_").slice(2).join("_");
const plain = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
const attrs = (html: string, name: string) => [...html.matchAll(new RegExp(`${name}="([^"]*)"`, "g"))].map((m) => m[1]!);
const unescapeHtml = (s: string) =>
  s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&#96;/g, "`").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");

interface RawReply {
  status: number;
  headers: Record<string, string>;
  text: string;
}
const raw = (r: APIGatewayProxyStructuredResultV2): RawReply => ({
  status: r.statusCode ?? 0,
  headers: Object.fromEntries(Object.entries(r.headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)])),
  text: r.body ?? "",
});

/** What the browser would send for `fetch(url, init)` on this origin: through the router to the real handlers. */
async function viaRouter(url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<RawReply> {
  const u = new URL(url, "https://abc123.execute-api.eu-west-1.amazonaws.com");
  const query: Record<string, string> = {};
  for (const [k, v] of u.searchParams) query[k] = k in query ? `${query[k]},${v}` : v;
  const event = v2Event(init.method ?? "GET", u.pathname, {
    headers: init.headers ?? {},
    ...(Object.keys(query).length > 0 && { query }),
    ...(init.body !== undefined && { rawBody: init.body, contentType: null }),
  });
  return raw(await dispatch(event));
}

let env: ApiTestEnv;
let dash: Dash;
const K = { producer: "", worker: "", controller: "", admin: "" };

/** The script's request for endpoint `name`, sent as the page sends it; the JSON reply. */
async function dashCall(name: string, key: string, req: { params?: Record<string, string>; query?: Record<string, string>; body?: unknown } = {}) {
  const [method] = dash.ENDPOINTS[name] as [string, string];
  const r = await viaRouter(dash.endpointUrl(name, req.params, req.query), {
    method,
    headers: { authorization: `Bearer ${key}`, ...(req.body !== undefined && { "content-type": "application/json" }) },
    ...(req.body !== undefined && { body: JSON.stringify(req.body) }),
  });
  return { status: r.status, body: r.text ? JSON.parse(r.text) : null };
}

beforeAll(async () => {
  env = configureApiEnv();
  K.admin = env.adminKey;
  K.producer = await createKey(K.admin, "dash-producer", ["producer"]);
  K.worker = await createKey(K.admin, "dash-pool", ["worker"]);
  K.controller = await createKey(K.admin, "dash-lead", ["controller"]);
  dash = loadScript().dash;
});

describe("GET /dashboard", () => {
  it("is a page route outside /v1, not in the served OpenAPI document", async () => {
    const r = ROUTES.find((x) => x.name === "dashboard");
    expect(r).toMatchObject({ method: "GET", path: "/dashboard", kind: "page", handler: "functions/http/dashboard.handler" });
    const doc = await call("openapi", { key: K.producer });
    expect(doc.status).toBe(200);
    expect(Object.keys(doc.body.paths)).not.toContain("/dashboard");
    expect(Object.keys(doc.body.paths)).toContain("/v1/dlq/replay");
  });

  it("returns the self-contained HTML page, without a key, with strict security headers", async () => {
    const r = raw(await (await handlerOf("dashboard"))(v2Event("GET", "/dashboard")));
    expect(r.status).toBe(200);
    expect(r.headers).toMatchObject({
      "content-type": "text/html; charset=utf-8",
      "x-content-type-options": "nosniff",
      "referrer-policy": "no-referrer",
      "x-frame-options": "DENY",
    });
    expect(r.text).toBe(DASHBOARD_HTML);
    expect(r.text.startsWith("<!doctype html>")).toBe(true);
    // nothing from elsewhere: no external scripts, styles, images, fonts or frames
    expect(r.text).not.toMatch(/<link|<iframe|<img|<object|<embed|\ssrc=|\shref=|@import|\burl\(|https?:\/\//i);
    expect([...r.text.matchAll(/<script/g)]).toHaveLength(1);
    expect([...r.text.matchAll(/<style/g)]).toHaveLength(1);
    expect(r.text).not.toMatch(/\son[a-z]+=/i); // no inline event handlers (the CSP would block them anyway)
    expect(r.text).not.toMatch(/\sstyle=/i); // no style attributes (likewise)
  });

  it("has a CSP allowing only its own inline script and style (by SHA-256), fetches to 'self', no framing", async () => {
    const r = raw(await (await handlerOf("dashboard"))(v2Event("GET", "/dashboard")));
    const csp = r.headers["content-security-policy"]!;
    expect(csp).toBe(DASHBOARD_CSP);
    const directives = Object.fromEntries(csp.split(/;\s*/).map((d) => { const [k, ...v] = d.split(" "); return [k, v.join(" ")]; }));
    const script = /<script>([\s\S]*?)<\/script>/.exec(r.text)![1]!;
    const style = /<style>([\s\S]*?)<\/style>/.exec(r.text)![1]!;
    const sha = (s: string) => `'sha256-${createHash("sha256").update(s, "utf8").digest("base64")}'`;
    expect(script).toBe(DASHBOARD_SCRIPT);
    expect(style).toBe(DASHBOARD_STYLE);
    expect(directives).toEqual({
      "default-src": "'none'",
      "script-src": sha(script),
      "style-src": sha(style),
      "connect-src": "'self'",
      "base-uri": "'none'",
      "form-action": "'none'",
      "frame-ancestors": "'none'",
    });
    expect(csp).not.toContain("unsafe");
  });

  it("answers 400 to a body, 405 to another method and 400 to a malformed event, as the API routes do", async () => {
    const h = await handlerOf("dashboard");
    const withBody = raw(await h(v2Event("GET", "/dashboard", { body: { a: 1 } })));
    expect(withBody.status).toBe(400);
    expect(JSON.parse(withBody.text).error.code).toBe("bad_request");
    expect(JSON.parse(raw(await h(v2Event("POST", "/dashboard"))).text).error.code).toBe("method_not_allowed");
    expect(raw(await h({} as never)).status).toBe(400);
    // through the router, as the local stack serves it
    expect(matchRoute("GET", "/dashboard").route.name).toBe("dashboard");
    const routed = raw(await dispatch(v2Event("GET", "/dashboard")));
    expect(routed.status).toBe(200);
    expect(routed.text).toBe(DASHBOARD_HTML);
    const post = raw(await dispatch(v2Event("POST", "/dashboard")));
    expect(post.status).toBe(405);
    expect(post.headers["allow"]).toBe("GET");
  });

  it("comes through the local HTTP server unchanged, headers and all", async () => {
    const server = await startHttpApi({ dispatch });
    try {
      const res = await fetch(`${server.url}/dashboard`);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(res.headers.get("content-security-policy")).toBe(DASHBOARD_CSP);
      expect(res.headers.get("x-frame-options")).toBe("DENY");
      expect(await res.text()).toBe(DASHBOARD_HTML);
    } finally {
      await server.close();
    }
  });

  it("is on the `npm run dev` banner", () => {
    const banner = devBanner({ apiUrl: "http://127.0.0.1:8787", redisUrl: "redis://r", upstashUrl: "http://u", adminKey: "k", maintenance: "off" });
    expect(banner).toMatch(/^ {2}dashboard +http:\/\/127\.0\.0\.1:8787\/dashboard\b/m);
  });
});

describe("the page's API calls", () => {
  it("are all routes of functions/routes.ts, with their method", () => {
    const endpoints = dash.ENDPOINTS as Record<string, [string, string]>;
    expect(Object.keys(endpoints).length).toBeGreaterThanOrEqual(11);
    for (const [name, [method, path]] of Object.entries(endpoints)) {
      const route = ROUTES.find((r) => r.name === name);
      expect(route, name).toBeDefined();
      expect({ method, path }, name).toEqual({ method: route!.method, path: route!.path });
    }
    // and the script names no API path outside that table, and fetches in one place only
    const literals = [...DASHBOARD_SCRIPT.matchAll(/["'](\/v1[^"']*)["']/g)].map((m) => m[1]!);
    expect(new Set(literals)).toEqual(new Set(Object.values(endpoints).map(([, p]) => p)));
    expect([...DASHBOARD_SCRIPT.matchAll(/\bfetch\(/g)]).toHaveLength(1);
    expect(DASHBOARD_SCRIPT).not.toMatch(/XMLHttpRequest|localStorage|document\.cookie|\beval\(|new Function|\.outerHTML|insertAdjacentHTML|document\.write/);
    expect([...DASHBOARD_SCRIPT.matchAll(/\.innerHTML\s*=/g)]).toHaveLength(1); // setHtml, fed by render functions only
  });

  it("build URLs the router resolves to the intended route, ids percent-encoded", () => {
    for (const [name, [method, path]] of Object.entries(dash.ENDPOINTS as Record<string, [string, string]>)) {
      const params = Object.fromEntries([...path.matchAll(/\{(\w+)\}/g)].map((m) => [m[1]!, "pool-a:proc/1 ?#"]));
      const url = dash.endpointUrl(name, params, { limit: "5" }) as string;
      expect(url.startsWith("/v1/")).toBe(true);
      const u = new URL(url, "http://x");
      const m = matchRoute(method, u.pathname);
      expect(m.route.name, url).toBe(name);
      expect(Object.values(m.params).every((v) => v === "pool-a:proc/1 ?#"), url).toBe(true);
      expect(u.searchParams.get("limit")).toBe("5");
    }
    expect(() => dash.endpointUrl("getJob", {})).toThrow(/missing path parameter id/);
    expect(() => dash.endpointUrl("keysCreate", {})).toThrow(/unknown endpoint/);
  });

  it("send queries and bodies the API's schemas accept", () => {
    const q = plain(dash.dlqQuery({ queue: " default, low_priority ,", reason: "non_retryable", error: " boom ", fingerprint: "ABCDEF012345", limit: "25" }, "c-1"));
    expect(q).toEqual({ queue: "default,low_priority", reason: "non_retryable", error: "boom", fingerprint: "abcdef012345", limit: "25", cursor: "c-1" });
    ApiSchemas.DlqListQuery.parse(q);
    const jq = plain(dash.jobsQuery({ queue: " low_priority ", state: "failed" }, "c-2"));
    expect(jq).toEqual({ queue: "low_priority", state: "failed", limit: "50", cursor: "c-2" });
    ApiSchemas.ListJobsQuery.parse(jq);
    expect(plain(dash.jobsQuery({ queue: "", state: "<running>" }, null))).toEqual({ queue: "default", state: "pending", limit: "50" });
    expect(plain(dash.dlqQuery({ reason: "made_up", limit: "1000" }, null))).toEqual({ limit: "50" });
    for (const t of ["answer", "instruction", "approval", "rejection"]) {
      const b = plain(dash.answerBody({ response_type: t, message: "Use the SSO page", instructions: " a \n\n b " }));
      expect(b).toEqual({ response_type: t, message: "Use the SSO page", instructions: ["a", "b"], generated_by: "human" });
      ApiSchemas.AnswerBody.parse(b);
    }
    expect(plain(dash.answerBody({ response_type: "<x>", message: "" }))).toEqual({ response_type: "answer", message: "", generated_by: "human" });
    expect(dash.errorText(403, { error: { code: "forbidden", message: "no" } })).toBe("forbidden: no");
    expect(dash.errorText(404, { message: "Not Found" })).toBe("HTTP 404: Not Found");
    expect(dash.errorText(502, null)).toBe("HTTP 502");
  });
});

describe("rendering", () => {
  it("esc escapes every character that could open markup or leave an attribute", () => {
    expect(dash.esc(`<a href="x" title='y'>&\`</a>`)).toBe("&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&#96;&lt;/a&gt;");
    expect(dash.esc(null)).toBe("");
    expect(dash.esc(undefined)).toBe("");
    expect(dash.esc(0)).toBe("0");
  });

  it("escapes hostile ids, names, errors, payloads and questions in every view", () => {
    const stats = {
      queues: {
        [`default${H}`]: { pending: 1, started: 0, finished: 2, failed: 1, deferred: 0, scheduled: 0, dlq: 3, oldestPendingAgeMs: 1500, streamLength: 1, totals: { [`enq${H}`]: 4 } },
      },
      workers: {
        total: 1, idle: 0, busy: 0, suspended: 1,
        workers: [{ workerId: `w${H}`, state: `suspended${H}`, active_jobs: 0, jobs_processed: 1, jobs_failed: 0, uptime_seconds: 90,
          queues: [`q${H}`], permission_levels: [`l${H}`], concurrency: 1, host: `h${H}`, pid: 1, started_at: H, last_beat_at: H }],
      },
    };
    const job = hostile({
      id: "j-1", queue: "default", type: "t", priority: "normal", permissionLevel: "autonomous", status: "active", payload: { a: "b", [`k${H}`]: ["c"] },
      attempts: 1, maxAttempts: 3, timeoutMs: 60000, createdAt: "2026-11-23T12:00:00Z", enqueuedAt: "2026-11-23T12:00:00.000Z", readyAt: null,
      startedAt: null, finishedAt: null, nextAttemptAt: null, worker: "w", leaseToken: 1, leaseExpiresAt: null, progress: { pct: "10" },
      result: { r: "x" }, error: { name: "E", message: "m", stack: "s", code: "c" }, deadLetter: { at: "t", reason: "r" }, cancelReason: "c",
      callbackUrl: "javascript:void(0)", history: [{ at: "a", status: "s", attempt: 1, worker: "w", error: "e", reason: "r" }],
      expiresAt: null, undecryptableFields: ["payload.x"],
    });
    const dlq = hostile({ entries: [{ id: "d-1", queue: "q", type: "t", reason: "r", deadLetteredAt: "t", attempts: 1, error: { name: "n", message: "m" }, fingerprint: "f" }], nextCursor: "c" });
    const jobList = hostile({ jobs: [{ id: "l-1", queue: "q", status: "retrying", type: "t", priority: "normal", permissionLevel: "autonomous", attempts: 1, maxAttempts: 3,
      createdAt: "t", enqueuedAt: "t", startedAt: null, finishedAt: null, runAt: "2026-11-23T12:00:00.000Z", worker: "w", error: { name: "n", message: "m" } }], nextCursor: "c" });
    const questions = hostile({ requests: [{ id: "r-1", worker_id: "w", work_order_id: "j", task_id: "t", request_type: "approval", message: "Which?",
      context: { files: ["f"] }, created_at: "t", expires_at: "t", conversation_id: "c", parent_message_id: "p", status: "open" }] });
    const views = {
      queues: dash.renderQueues(stats) as string,
      workers: dash.renderWorkers(stats) as string,
      job: dash.renderJob(job) as string,
      dlqJob: dash.renderJob(job, { dlq: true }) as string,
      dlq: dash.renderDlq(dlq, { selected: { [`d-1${H}`]: true }, hasPrevious: true }) as string,
      jobList: dash.renderJobList(jobList, { hasPrevious: true, queue: `q${H}`, state: "pending" }) as string,
      emptyJobList: dash.renderJobList({ jobs: [], nextCursor: null }, { queue: `q${H}`, state: `s${H}` }) as string,
      schedules: dash.renderSchedules(hostile({ schedules: [{ name: "s-1", cron: "@daily", job: { type: "t", queue: "q", payload: { p: 1 } }, createdAt: "t",
        nextRunAt: "2026-12-05T00:00:00.000Z", lastRunAt: null, lastJobId: "s-1:1", runs: 2 }] })) as string,
      questions: dash.renderQuestions(questions) as string,
    };
    for (const [name, html] of Object.entries(views)) {
      expect(html, name).toContain(escapeHtml(H));
      expectNoInjection(html);
    }
    // ids and fingerprints in data attributes come back exactly when read (as the DOM layer reads them)
    expect(attrs(views.dlq, "data-id").map(unescapeHtml)).toContain(`d-1${H}`);
    expect(attrs(views.dlq, "data-fp").map(unescapeHtml)).toEqual([`f${H}`]);
    expect(attrs(views.workers, "data-id").map(unescapeHtml)).toEqual([`w${H}`]);
    expect(attrs(views.jobList, "data-id").map(unescapeHtml)).toEqual([`l-1${H}`]);
    expect(attrs(views.schedules, "data-name").map(unescapeHtml)).toEqual([`s-1${H}`]);
    expect(attrs(views.schedules, "data-id").map(unescapeHtml)).toEqual([`s-1:1${H}`]);
    expect(attrs(views.queues, "data-queue").map(unescapeHtml)).toEqual([`default${H}`, `default${H}`, `default${H}`, `default${H}`]); // pending, finished, failed, DLQ
    expect(attrs(views.questions, "data-request-id").map(unescapeHtml)).toEqual([`r-1${H}`]);
    expect(views.dlq).toMatch(/<input type="checkbox" class="dlq-select" data-id="d-1[^"]*" aria-label="[^"]*" checked>/);
    expect(views.job).not.toContain("href"); // a hostile callback URL is text, never a link
    expect(views.workers).not.toContain("st-suspended"); // unknown states get a neutral class, not one made of data
    expect(dash.replayText(hostile({ results: [{ id: "a", outcome: "replayed" }] }))).toContain(H); // replayText goes to textContent only
  });

  it("copes with empty, partial and unexpected shapes without throwing", () => {
    for (const v of [null, undefined, {}, [], "x", 5, { queues: null, workers: null }, { entries: [null, 3] }, { requests: [null] }]) {
      for (const f of ["renderQueues", "renderWorkers", "renderJob", "renderJobList", "renderSchedules", "renderDlq", "renderQuestions"]) {
        expect(() => expectNoInjection(dash[f](v) as string), `${f}(${JSON.stringify(v)})`).not.toThrow();
      }
    }
    expect(dash.renderQueues({ queues: {} })).toContain("No queues");
    expect(dash.renderWorkers({ queues: {}, workers: null })).toContain("no worker registry");
    expect(dash.renderDlq({ entries: [], nextCursor: null }, { filtered: true })).toContain("match these filters");
    expect(dash.renderQuestions({ requests: [] })).toContain("No open worker questions");
    expect(dash.renderJobList({ jobs: [], nextCursor: null }, { queue: "default", state: "failed" })).toContain("No failed jobs in default.");
  });
});

describe("rendering real API responses, fetched as the page fetches them", () => {
  let dlqId = "";
  let requestId = "";

  beforeAll(async () => {
    // a job dead-lettered with a hostile error, one waiting on a hostile question, one pending; a registered worker
    for (const [id, type] of [["dash-dlq", `report${H}`], ["dash-ask", "review"], ["dash-pending", "later"]]) {
      const r = await call("enqueue", { key: K.producer, body: { id, type, payload: { note: `from ${H}`, n: 1 }, maxRetries: 0 } });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
    }
    const c1 = await call("claim", { key: K.worker, body: { workerId: "proc-1" } });
    expect(c1.body.job.id).toBe("dash-dlq");
    const f = await call("fail", { key: K.worker, params: { id: "dash-dlq" }, body: { token: c1.body.lease.token, error: { name: "RepoGone", message: `repository ${H} missing`, stack: `at ${H}` }, retryable: false } });
    expect(f.body.outcome).toBe("dead_lettered");
    dlqId = "dash-dlq";
    const c2 = await call("claim", { key: K.worker, body: { workerId: "proc-2" } });
    expect(c2.body.job.id).toBe("dash-ask");
    const ask = await call("askQuestion", { key: K.worker, params: { id: "dash-ask" }, body: { token: c2.body.lease.token, request_type: "approval", message: `May I ${H}?`, context: { file: H } } });
    expect(ask.status, JSON.stringify(ask.body)).toBe(201);
    requestId = ask.body.id;
    const registry = new WorkerRegistry({ redis: openPort("upstash"), keys: env.prefix });
    await registry.beat({ workerId: "dash-pool:proc-1", state: "busy", queues: ["default"], permissionLevels: ["autonomous"], concurrency: 2,
      activeJobs: 1, jobsProcessed: 7, jobsFailed: 1, startedAt: Date.now() - 3_600_000, host: `host${H}`, pid: 4242 });
  });

  it("queues and workers (GET /v1/stats), suspend refused without admin, then done by admin", async () => {
    const stats = await dashCall("stats", K.controller);
    expect(stats.status).toBe(200);
    const queues = dash.renderQueues(stats.body) as string;
    expect(queues).toContain('<th scope="row">default</th>');
    expect(queues).toContain('data-action="dlq-queue" data-queue="default"'); // the DLQ count links to the DLQ view
    for (const h of ["pending", "started", "scheduled", "finished", "failed", "deferred", "DLQ", "oldest pending", "stream length"]) expect(queues).toContain(`<th>${h}</th>`);
    expectNoInjection(queues);
    let workers = dash.renderWorkers(stats.body) as string;
    expect(workers).toContain("<code>dash-pool:proc-1</code>");
    expect(workers).toContain('<span class="badge st-busy">busy</span>');
    expect(workers).toContain("1 / 2"); // active of concurrency
    expect(workers).toContain("1h 0m"); // uptime
    expect(workers).toContain(escapeHtml(`host${H}`));
    expectNoInjection(workers);
    const [suspendId] = attrs(workers, "data-id").map(unescapeHtml);
    expect(suspendId).toBe("dash-pool:proc-1");

    const refused = await dashCall("workerSuspend", K.controller, { params: { id: suspendId! } });
    expect(refused.status).toBe(403);
    expect(dash.errorText(refused.status, refused.body)).toMatch(/^forbidden: "workerSuspend" needs one of the roles admin/);
    expect((await dashCall("workerSuspend", K.admin, { params: { id: suspendId! } })).status).toBe(200);
    workers = dash.renderWorkers((await dashCall("stats", K.admin)).body) as string;
    expect(workers).toContain('<span class="badge st-suspended">suspended</span>');
    expect(workers).toContain('data-action="worker-resume" data-id="dash-pool:proc-1"');
    expect((await dashCall("workerResume", K.admin, { params: { id: suspendId! } })).body).toEqual({ workerId: suspendId, suspended: false });
  });

  it("recurring schedules (GET /v1/schedules), each with its delete button", async () => {
    expect(dash.ENDPOINTS.schedulesPut).toBeUndefined(); // the page lists and deletes schedules; it does not create them
    expect((await call("schedulesPut", { key: K.producer, body: { name: "dash-nightly", cron: "0 2 * * *", job: { type: `report${H}`, payload: {} } } })).status).toBe(201);
    const list = await dashCall("schedulesList", K.controller);
    const html = dash.renderSchedules(list.body) as string;
    expect(attrs(html, "data-name")).toEqual(["dash-nightly"]);
    expect(html).toContain(escapeHtml(`report${H}`));
    expectNoInjection(html);
    const del = await dashCall("schedulesDelete", K.producer, { params: { name: "dash-nightly" } });
    expect(del.status).toBe(200);
    expect(dash.renderSchedules((await dashCall("schedulesList", K.controller)).body)).toContain("No recurring schedules");
  });

  it("job lists (GET /v1/jobs) by state, each id opening its record", async () => {
    const pending = await dashCall("listJobs", K.controller, { query: dash.jobsQuery({ queue: "default", state: "pending" }, null) });
    expect(pending.status, JSON.stringify(pending.body)).toBe(200);
    const html = dash.renderJobList(pending.body, { queue: "default", state: "pending" }) as string;
    expect(attrs(html, "data-id")).toEqual(["dash-pending"]);
    expectNoInjection(html);
    const failed = await dashCall("listJobs", K.controller, { query: dash.jobsQuery({ queue: "default", state: "failed" }, null) });
    const failedHtml = dash.renderJobList(failed.body, { queue: "default", state: "failed" }) as string;
    expect(failedHtml).toContain(escapeHtml(`RepoGone: repository ${H} missing`));
    expect(failedHtml).toContain(escapeHtml(`report${H}`));
    expectNoInjection(failedHtml);
    // the queues table links its counts to these lists
    const stats = await dashCall("stats", K.controller);
    const queues = dash.renderQueues(stats.body) as string;
    expect(queues).toContain('data-action="jobs-queue" data-queue="default" data-state="pending"');
    expect(queues).toContain('data-action="jobs-queue" data-queue="default" data-state="failed"');
  });

  it("a job (GET /v1/jobs/{id}) with its cancel button, which cancels it", async () => {
    const pending = await dashCall("getJob", K.producer, { params: { id: "dash-pending" } });
    expect(pending.status).toBe(200);
    const html = dash.renderJob(pending.body) as string;
    expect(html).toContain("<code>dash-pending</code>");
    expect(html).toContain('<span class="badge st-pending">pending</span>');
    expect(html).toContain("<dt>attempts</dt><dd>0 of 1</dd>");
    expect(html).toContain('data-action="job-cancel" data-id="dash-pending"');
    expect(html).toContain("<h4>History</h4>");
    expect(html).toContain(escapeHtml(JSON.stringify(`from ${H}`).slice(1, -1))); // the payload, escaped
    expectNoInjection(html);
    const cancelled = await dashCall("cancelJob", K.producer, { params: { id: "dash-pending" } });
    expect(cancelled.body).toMatchObject({ id: "dash-pending", status: "cancelled", previous: "pending" });
    const after = dash.renderJob((await dashCall("getJob", K.producer, { params: { id: "dash-pending" } })).body) as string;
    expect(after).toContain('<span class="badge st-cancelled">cancelled</span>');
    expect(after).not.toContain("job-cancel");

    const failed = dash.renderJob((await dashCall("getJob", K.admin, { params: { id: "dash-dlq" } })).body) as string;
    expect(failed).toContain("<strong>RepoGone</strong>: " + escapeHtml(`repository ${H} missing`));
    expect(failed).toContain("<pre>" + escapeHtml(`at ${H}`) + "</pre>"); // the stack
    expect(failed).toContain("<dt>worker</dt><dd>dash-pool:proc-1</dd>");
    expectNoInjection(failed);
    const missing = await dashCall("getJob", K.producer, { params: { id: "nope" } });
    expect(dash.errorText(missing.status, missing.body)).toMatch(/^job_not_found: /);
  });

  it("the DLQ (GET /v1/dlq): filters, fingerprint link, pagination, inspect, replay, purge", async () => {
    const page = await dashCall("dlqList", K.controller, { query: dash.dlqQuery({ reason: "non_retryable" }, null) });
    expect(page.status).toBe(200);
    const html = dash.renderDlq(page.body, {}) as string;
    expect(html).toContain("<code>dash-dlq</code>");
    expect(html).toContain(escapeHtml(`RepoGone: repository ${H} missing`));
    expect(html).toContain(escapeHtml(`report${H}`)); // the hostile type
    expectNoInjection(html);
    const [fp] = attrs(html, "data-fp");
    expect(fp).toMatch(/^[0-9a-f]{12}$/);
    expect(fp).toBe(page.body.entries[0].fingerprint);
    // clicking the fingerprint filters by it; the error filter narrows too
    const byFp = await dashCall("dlqList", K.controller, { query: dash.dlqQuery({ fingerprint: fp }, null) });
    expect(byFp.body.entries.map((e: { id: string }) => e.id)).toEqual(["dash-dlq"]);
    const byText = await dashCall("dlqList", K.controller, { query: dash.dlqQuery({ error: "nothing like this", queue: "default" }, null) });
    expect(dash.renderDlq(byText.body, { filtered: true })).toContain("match these filters");

    // pagination: a second dead letter, pages of one
    await call("enqueue", { key: K.producer, body: { id: "dash-dlq-2", payload: {}, maxRetries: 0 } });
    const c = await call("claim", { key: K.worker, body: { workerId: "proc-3" } });
    expect(c.body.job.id).toBe("dash-dlq-2");
    await call("fail", { key: K.worker, params: { id: "dash-dlq-2" }, body: { token: c.body.lease.token, error: { message: "boom 1234" }, retryable: false } });
    const first = await dashCall("dlqList", K.controller, { query: { ...dash.dlqQuery({}, null), limit: "1" } });
    expect(first.body.nextCursor).toEqual(expect.any(String));
    expect(dash.renderDlq(first.body, {})).toContain('data-action="dlq-next"');
    const second = await dashCall("dlqList", K.controller, { query: { ...dash.dlqQuery({}, first.body.nextCursor), limit: "1" } });
    const secondHtml = dash.renderDlq(second.body, { hasPrevious: true }) as string;
    expect(secondHtml).toContain('data-action="dlq-first"');
    expect(new Set([...first.body.entries, ...second.body.entries].map((e: { id: string }) => e.id))).toEqual(new Set(["dash-dlq", "dash-dlq-2"]));

    // inspect: the full job, with replay and purge
    const shown = await dashCall("dlqShow", K.controller, { params: { id: dlqId } });
    const detail = dash.renderJob(shown.body, { dlq: true }) as string;
    expect(detail).toContain('data-action="dlq-replay-one" data-id="dash-dlq"');
    expect(detail).toContain('data-action="dlq-purge" data-id="dash-dlq"');
    expect(detail).toContain("<dt>dead-lettered</dt>");
    expectNoInjection(detail);

    // replay selected: the ids exactly as the checkboxes carry them
    const ids = attrs(dash.renderDlq((await dashCall("dlqList", K.controller, { query: dash.dlqQuery({}, null) })).body, {}), "data-id")
      .map(unescapeHtml).filter((id, i, all) => all.indexOf(id) === i);
    expect(ids.sort()).toEqual(["dash-dlq", "dash-dlq-2"]);
    const replayed = await dashCall("dlqReplay", K.controller, { body: { ids: ["dash-dlq"] } });
    expect(dash.replayText(replayed.body)).toBe("dash-dlq: replayed");
    // purge one: admin only
    const refused = await dashCall("dlqPurgeOne", K.controller, { params: { id: "dash-dlq-2" } });
    expect(refused.status).toBe(403);
    expect((await dashCall("dlqPurgeOne", K.admin, { params: { id: "dash-dlq-2" } })).body).toEqual({ id: "dash-dlq-2", purged: true });
    expect(dash.renderDlq((await dashCall("dlqList", K.controller, { query: dash.dlqQuery({}, null) })).body, {})).toContain("empty");
  });

  it("open worker questions (GET /v1/requests?status=open) and the answer form's body", async () => {
    const list = await dashCall("listRequests", K.controller, { query: { status: "open", limit: "100" } });
    expect(list.status).toBe(200);
    const html = dash.renderQuestions(list.body) as string;
    expect(html).toContain(`<form class="answer" data-request-id="${requestId}">`);
    expect(html).toContain(escapeHtml(`May I ${H}?`));
    expect(html).toContain("<code>dash-pool:proc-2</code>");
    expect(html).toContain('data-action="open-job" data-id="dash-ask"');
    expect(html).toContain('<option value="approval" selected>approval</option>'); // an approval request suggests an approval
    for (const t of ["answer", "instruction", "approval", "rejection"]) expect(html).toContain(`<option value="${t}"`);
    expectNoInjection(html);
    const body = dash.answerBody({ response_type: "approval", message: "Go ahead", instructions: "keep it small" });
    const answered = await dashCall("answerRequest", K.controller, { params: { requestId }, body: plain(body) });
    expect(answered.status, JSON.stringify(answered.body)).toBe(201);
    expect(answered.body).toMatchObject({ request_id: requestId, response_type: "approval", generated_by: "human", responder_id: "dash-lead", instructions: ["keep it small"] });
    const again = await dashCall("answerRequest", K.controller, { params: { requestId }, body: plain(body) });
    expect(dash.errorText(again.status, again.body)).toMatch(/^already_answered: /);
    expect(dash.renderQuestions((await dashCall("listRequests", K.controller, { query: { status: "open", limit: "100" } })).body)).toContain("No open worker questions");
  });
});

// ── The DOM layer, on a minimal fake DOM whose fetch goes through the router ─────────────────────

class FakeElement {
  hidden = false;
  innerHTML = "";
  textContent = "";
  value = "";
  checked = false;
  disabled = false;
  readonly attrs = new Map<string, string>();
  readonly classes = new Set<string>();
  readonly elements: Record<string, FakeElement> = {};
  readonly children: Record<string, FakeElement> = {};
  readonly classList = {
    toggle: (c: string, on: boolean) => (on ? this.classes.add(c) : this.classes.delete(c)),
    contains: (c: string) => this.classes.has(c),
  };
  constructor(readonly id = "", attributes: Record<string, string> = {}) {
    if (id) this.attrs.set("id", id);
    for (const [k, v] of Object.entries(attributes)) this.attrs.set(k, v);
  }
  getAttribute(n: string) { return this.attrs.get(n) ?? null; }
  setAttribute(n: string, v: string) { this.attrs.set(n, v); }
  closest(sel: string) { return sel === "[data-action]" && this.attrs.has("data-action") ? this : null; }
  querySelector(sel: string) { return this.children[sel] ?? null; }
  focus() {}
  scrollIntoView() {}
}
class FakeInput extends FakeElement {}
class FakeForm extends FakeElement {}

function fakeBrowser() {
  const byId = new Map<string, FakeElement>();
  for (const m of DASHBOARD_HTML.matchAll(/<(\w+)[^>]*\sid="([^"]+)"/g)) {
    const Kind = m[1] === "form" ? FakeForm : m[1] === "input" ? FakeInput : FakeElement;
    byId.set(m[2]!, new Kind(m[2]!));
  }
  const filters = byId.get("dlq-filters")!;
  for (const [name, value] of [["queue", ""], ["reason", ""], ["error", ""], ["fingerprint", ""], ["limit", "50"]] as const) {
    filters.elements[name] = Object.assign(new FakeInput(), { value });
  }
  const tabs = ["queues", "workers", "jobs", "dlq", "questions"].map((t) => new FakeElement("", { "data-action": "tab", "data-tab": t }));
  const listeners: Record<string, Array<(ev: unknown) => void>> = {};
  const storage = new Map<string, string>();
  const fetches: Array<{ url: string; init: { method: string; headers: Record<string, string>; body?: string } }> = [];
  const pending: Array<Promise<unknown>> = [];
  const location = { hash: "" };
  const window = {
    sessionStorage: {
      getItem: (k: string) => storage.get(k) ?? null,
      setItem: (k: string, v: string) => void storage.set(k, v),
      removeItem: (k: string) => void storage.delete(k),
    },
    location,
    history: { replaceState: (_s: unknown, _t: string, h: string) => void (location.hash = h) },
    setInterval: () => 0,
    setTimeout: () => 0,
    confirm: () => true,
  };
  const document = {
    readyState: "complete",
    hidden: false,
    getElementById: (id: string) => byId.get(id) ?? null,
    querySelectorAll: (sel: string) =>
      sel === "section.view" ? [...byId.values()].filter((e) => e.id.startsWith("view-")) : sel === "#tabs [data-tab]" ? tabs : [],
    addEventListener: (type: string, fn: (ev: unknown) => void) => void (listeners[type] ??= []).push(fn),
  };
  const fetch = (url: string, init: { method: string; headers: Record<string, string>; body?: string }) => {
    fetches.push({ url, init });
    const p = viaRouter(url, init).then((r) => ({ ok: r.status < 400, status: r.status, text: async () => r.text }));
    pending.push(p);
    return p;
  };
  loadScript({ window, document, fetch, Element: FakeElement, HTMLInputElement: FakeInput, HTMLFormElement: FakeForm });
  const fire = (type: string, target: FakeElement) => { for (const fn of listeners[type] ?? []) fn({ type, target, preventDefault() {} }); };
  /** Waits for every fetch the page started, and the handlers chained on them. */
  const settle = async () => {
    for (let i = 0; i < 50; i++) {
      const n = pending.length;
      await Promise.allSettled(pending);
      await new Promise((r) => setImmediate(r));
      if (pending.length === n) return;
    }
  };
  const signIn = async (key: string) => {
    byId.get("key-input")!.value = key;
    fire("submit", byId.get("key-form")!);
    await settle();
  };
  const click = async (attributes: Record<string, string>) => {
    fire("click", new FakeElement("", attributes));
    await settle();
  };
  return { el: (id: string) => byId.get(id)!, storage, fetches, fire, settle, signIn, click, tabs };
}

describe("the DOM layer (fake DOM, real handlers)", () => {
  it("asks for a key, keeps it in sessionStorage and the authorization header only, renders the views", async () => {
    const b = fakeBrowser();
    expect(b.el("key-panel").hidden).toBe(false);
    expect(b.el("tabs").hidden).toBe(true);
    expect(b.fetches).toHaveLength(0); // nothing is fetched without a key

    await b.signIn(` ${K.controller} `);
    expect(b.storage.get("workstream.apiKey")).toBe(K.controller);
    expect(b.el("key-input").value).toBe("");
    expect(b.el("key-panel").hidden).toBe(true);
    expect(b.el("view-queues").hidden).toBe(false);
    expect(b.el("queues").innerHTML).toContain('<th scope="row">default</th>');
    expect(b.el("workers").innerHTML).toContain("dash-pool:proc-1");

    await b.click({ "data-action": "tab", "data-tab": "dlq" });
    expect(b.el("view-dlq").hidden).toBe(false);
    expect(b.el("view-queues").hidden).toBe(true);
    expect(b.el("dlq-status").classes.has("error")).toBe(false);
    await b.click({ "data-action": "tab", "data-tab": "questions" });
    expect(b.el("questions").innerHTML).toContain("No open worker questions");
    await b.click({ "data-action": "open-job", "data-id": "dash-ask" });
    expect(b.el("view-jobs").hidden).toBe(false);
    expect(b.el("job").innerHTML).toContain("<code>dash-ask</code>");

    // a refusal is shown, not swallowed: suspending needs admin
    await b.click({ "data-action": "worker-suspend", "data-id": "dash-pool:proc-1" });
    expect(b.el("workers-status").textContent).toMatch(/^forbidden: /);
    expect(b.el("workers-status").classes.has("error")).toBe(true);

    expect(b.fetches.map((f) => f.url.split("?")[0])).toEqual(["/v1/stats", "/v1/schedules", "/v1/dlq", "/v1/requests", "/v1/jobs/dash-ask", "/v1/workers/dash-pool:proc-1/suspend"]);
    for (const f of b.fetches) {
      expect(f.url.startsWith("/v1/"), f.url).toBe(true); // same origin, relative
      expect(f.url).not.toContain(keySecret(K.controller));
      expect(f.init.headers["authorization"]).toBe(`Bearer ${K.controller}`);
    }
  });

  it("answers a question from its form and signs out on a rejected key", async () => {
    const enq = await call("enqueue", { key: K.producer, body: { id: "dash-dom", payload: {} } });
    expect(enq.status).toBe(201);
    const c = await call("claim", { key: K.worker, body: { workerId: "proc-9" } });
    const ask = await call("askQuestion", { key: K.worker, params: { id: c.body.job.id }, body: { token: c.body.lease.token, request_type: "question", message: "Which branch?" } });
    const b = fakeBrowser();
    await b.signIn(K.admin);
    const form = new FakeForm("", { "data-request-id": ask.body.id });
    form.classes.add("answer");
    Object.assign(form.elements, {
      response_type: Object.assign(new FakeInput(), { value: "instruction" }),
      message: Object.assign(new FakeInput(), { value: "Use main" }),
      instructions: Object.assign(new FakeInput(), { value: "rebase first" }),
    });
    const status = new FakeElement();
    form.children[".form-status"] = status;
    b.fire("submit", form);
    await b.settle();
    expect(status.textContent).toBe("Answered.");
    const answer = b.fetches.find((f) => f.init.method === "POST")!;
    expect(JSON.parse(answer.init.body!)).toEqual({ response_type: "instruction", message: "Use main", instructions: ["rebase first"], generated_by: "human" });
    expect(answer.init.headers["content-type"]).toBe("application/json");

    await b.signIn("ws_abcd1234_" + "x".repeat(43));
    expect(b.el("key-panel").hidden).toBe(false);
    expect(b.el("key-status").textContent).toMatch(/^unauthorized: /);
    expect(b.storage.has("workstream.apiKey")).toBe(false);
    expect(b.el("queues").innerHTML).toBe("");
  });
});
