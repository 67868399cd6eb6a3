/**
 * The web dashboard's one inline script (page.ts puts it in the page and its SHA-256 in the CSP).
 *
 * Two layers in one classic script that defines a single global, `WorkstreamDashboard`:
 *
 * - **Pure functions** (data → HTML string): `renderQueues(stats)`, `renderWorkers(stats)`,
 *   `renderJob(job)`, `renderJobList(page)`, `renderSchedules(list)`, `renderDlq(page)`, `renderQuestions(list)`, plus the
 *   request builders `endpointUrl`, `jobsQuery`, `dlqQuery`, `answerBody`. Every value that comes from the API — ids, queue
 *   names, error messages, payloads, questions: all attacker-controllable — goes through the one
 *   `esc()` helper; markup comes only from string constants here. test/api/dashboard.test.ts runs
 *   the script in `node:vm` (no `document`) and calls them.
 * - **A thin DOM layer** (`init`, run only when `document` exists): the API key form (the key lives
 *   in sessionStorage, is sent as `authorization: Bearer`, never put in a URL), tabs, the 5 s
 *   stats refresh, and event delegation on `data-action` buttons and forms. Its only HTML sink is
 *   `setHtml`, fed by the render functions; messages go through `textContent`.
 *
 * Every API call goes through `ENDPOINTS` (route name → method and path, as in functions/routes.ts),
 * so the test can check each one against the route table. No template literals or `${` in the
 * script: it is a String.raw template itself.
 */
export const DASHBOARD_SCRIPT = String.raw`
var WorkstreamDashboard = (function () {
  "use strict";

  // The /v1 routes this page calls: name (as in functions/routes.ts) -> [method, path].
  var ENDPOINTS = {
    stats: ["GET", "/v1/stats"],
    workerSuspend: ["POST", "/v1/workers/{id}/suspend"],
    workerResume: ["POST", "/v1/workers/{id}/resume"],
    getJob: ["GET", "/v1/jobs/{id}"],
    listJobs: ["GET", "/v1/jobs"],
    schedulesList: ["GET", "/v1/schedules"],
    schedulesDelete: ["DELETE", "/v1/schedules/{name}"],
    cancelJob: ["POST", "/v1/jobs/{id}/cancel"],
    dlqList: ["GET", "/v1/dlq"],
    dlqShow: ["GET", "/v1/dlq/{id}"],
    dlqReplay: ["POST", "/v1/dlq/replay"],
    dlqPurgeOne: ["DELETE", "/v1/dlq/{id}"],
    listRequests: ["GET", "/v1/requests"],
    answerRequest: ["POST", "/v1/requests/{requestId}/response"]
  };
  var TERMINAL = ["completed", "failed", "expired", "cancelled"];
  var KNOWN_STATES = ["pending", "scheduled", "active", "waiting", "retrying", "completed", "failed", "expired",
    "cancelled", "idle", "busy", "suspended", "open", "answered"];
  var RESPONSE_TYPES = ["answer", "instruction", "approval", "rejection"];
  var DLQ_REASONS = ["max_attempts", "non_retryable", "lease_expired"];
  // GET /v1/jobs states, and the stats count each one lists (queues table links)
  var JOB_STATES = ["pending", "active", "scheduled", "deferred", "completed", "failed"];
  var JOB_LIMIT = "50";
  var DLQ_LIMITS = ["25", "50", "100"];
  var REFRESH_MS = 5000;
  var KEY_STORAGE = "workstream.apiKey";
  var DASH = "\u2013";

  // ---- Pure helpers --------------------------------------------------------------------------

  var ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;", "\x60": "&#96;" };
  /** Any value -> text safe inside an element or a double-quoted attribute. null/undefined -> "". */
  function esc(v) {
    if (v === null || v === undefined) return "";
    return String(v).replace(/[&<>"'\x60]/g, function (c) { return ESCAPES[c]; });
  }
  function isObj(v) { return v !== null && typeof v === "object" && !Array.isArray(v); }
  function trim(s) { return String(s).trim(); }
  function text(v) { return v === null || v === undefined || v === "" ? DASH : String(v); }
  function num(n) { return typeof n === "number" && isFinite(n) ? String(n) : DASH; }
  /** Shortens before escaping, so an entity is never cut in half. */
  function clip(v, max) { var s = String(v); return s.length > max ? s.slice(0, max - 1) + "\u2026" : s; }
  function fmtTime(v) {
    if (typeof v !== "string" || v === "") return DASH;
    var m = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(?:\.\d+)?(Z|[+-]\d\d:\d\d)$/.exec(v);
    return m ? m[1] + " " + m[2] + (m[3] === "Z" ? " UTC" : " " + m[3]) : v;
  }
  function fmtDuration(ms) {
    if (typeof ms !== "number" || !isFinite(ms) || ms < 0) return DASH;
    var s = Math.floor(ms / 1000);
    if (s < 60) return s + "s";
    var m = Math.floor(s / 60);
    if (m < 60) return m + "m " + (s % 60) + "s";
    var h = Math.floor(m / 60);
    if (h < 48) return h + "h " + (m % 60) + "m";
    return Math.floor(h / 24) + "d " + (h % 24) + "h";
  }
  function json(v) {
    if (v === undefined) return "";
    try {
      var s = JSON.stringify(v, null, 2);
      return s === undefined ? String(v) : s;
    } catch (e) {
      return String(v);
    }
  }

  // ---- HTML building blocks (markup from constants only; values through esc) ----------------

  function badge(state) {
    var cls = KNOWN_STATES.indexOf(state) >= 0 ? "st-" + state : "st-other";
    return '<span class="badge ' + cls + '">' + esc(text(state)) + "</span>";
  }
  /** action and data keys are constants of this script; data values and the label are escaped. */
  function button(action, label, data, cls) {
    var attrs = "";
    Object.keys(data || {}).forEach(function (k) { attrs += " data-" + k + '="' + esc(data[k]) + '"'; });
    return '<button type="button" data-action="' + action + '"' + attrs + (cls ? ' class="' + cls + '"' : "") + ">" + esc(label) + "</button>";
  }
  function td(value, cls) { return "<td" + (cls ? ' class="' + cls + '"' : "") + ">" + esc(value) + "</td>"; }
  function tdNum(n, warn) { return td(num(n), warn && n > 0 ? "num warn" : "num"); }
  function tdHtml(html, cls) { return "<td" + (cls ? ' class="' + cls + '"' : "") + ">" + html + "</td>"; }
  function table(headers, rows, cls) {
    return '<table class="' + (cls || "grid") + '"><thead><tr>' +
      headers.map(function (h) { return "<th>" + esc(h) + "</th>"; }).join("") +
      "</tr></thead><tbody>" + rows.join("") + "</tbody></table>";
  }
  function kv(label, value) { return "<dt>" + esc(label) + "</dt><dd>" + esc(text(value)) + "</dd>"; }
  function kvHtml(label, html) { return "<dt>" + esc(label) + "</dt><dd>" + html + "</dd>"; }
  function code(v) { return "<code>" + esc(text(v)) + "</code>"; }
  function pre(v) { return "<pre>" + esc(v) + "</pre>"; }
  function empty(message) { return '<p class="empty">' + esc(message) + "</p>"; }

  // ---- Requests (pure) ------------------------------------------------------------------------

  function queryString(query) {
    var parts = [];
    Object.keys(query || {}).forEach(function (k) {
      var v = query[k];
      if (v === undefined || v === null || v === "") return;
      parts.push(encodeURIComponent(k) + "=" + encodeURIComponent(String(v)));
    });
    return parts.join("&");
  }
  /** Route name + path parameters + query -> the same-origin URL. Ids are percent-encoded (":" may stay). */
  function endpointUrl(name, params, query) {
    var ep = ENDPOINTS[name];
    if (!ep) throw new Error("unknown endpoint " + name);
    var path = ep[1].replace(/\{(\w+)\}/g, function (_, p) {
      var v = params ? params[p] : undefined;
      if (typeof v !== "string" || v === "") throw new Error("missing path parameter " + p);
      return encodeURIComponent(v).replace(/%3A/gi, ":");
    });
    var qs = queryString(query);
    return path + (qs ? "?" + qs : "");
  }
  /** The job list form's values (+ a page cursor) -> GET /v1/jobs's query. */
  function jobsQuery(filters, cursor) {
    var f = filters || {};
    var q = { queue: trim(f.queue || "") || "default", state: JOB_STATES.indexOf(f.state) >= 0 ? f.state : "pending", limit: JOB_LIMIT };
    if (cursor) q.cursor = cursor;
    return q;
  }
  /** The DLQ filter form's values (+ a page cursor) -> GET /v1/dlq's query. */
  function dlqQuery(filters, cursor) {
    var f = filters || {};
    var q = {};
    var queue = String(f.queue || "").split(",").map(trim).filter(Boolean).join(",");
    if (queue) q.queue = queue;
    if (DLQ_REASONS.indexOf(f.reason) >= 0) q.reason = f.reason;
    if (f.error && trim(f.error)) q.error = trim(f.error);
    if (f.fingerprint && trim(f.fingerprint)) q.fingerprint = trim(f.fingerprint).toLowerCase();
    q.limit = DLQ_LIMITS.indexOf(String(f.limit)) >= 0 ? String(f.limit) : "50";
    if (cursor) q.cursor = cursor;
    return q;
  }
  /** The answer form's values -> POST /v1/requests/{requestId}/response's body (a human answer). */
  function answerBody(fields) {
    var f = fields || {};
    var body = {
      response_type: RESPONSE_TYPES.indexOf(f.response_type) >= 0 ? f.response_type : "answer",
      message: String(f.message || ""),
      generated_by: "human"
    };
    var instructions = String(f.instructions || "").split("\n").map(trim).filter(Boolean);
    if (instructions.length > 0) body.instructions = instructions;
    return body;
  }
  /** An API error reply -> one line: "code: message" (API Gateway's own errors say {message}). */
  function errorText(status, body) {
    if (isObj(body) && isObj(body.error)) return String(body.error.code || "error") + ": " + String(body.error.message || "");
    if (isObj(body) && typeof body.message === "string") return "HTTP " + status + ": " + body.message;
    return "HTTP " + status;
  }

  // ---- Views (pure: API response -> HTML) -----------------------------------------------------

  function totalsText(totals) {
    if (!isObj(totals)) return "";
    return Object.keys(totals).map(function (k) { return k + " " + num(totals[k]); }).join(" \u00b7 ");
  }

  /** GET /v1/stats -> the queues table. */
  function renderQueues(stats) {
    var queues = isObj(stats) && isObj(stats.queues) ? stats.queues : {};
    var names = Object.keys(queues);
    if (names.length === 0) return empty("No queues.");
    var rows = names.map(function (name) {
      var q = isObj(queues[name]) ? queues[name] : {};
      var dlq = typeof q.dlq === "number" && q.dlq > 0
        ? tdHtml(button("dlq-queue", num(q.dlq), { queue: name }, "link warn"), "num")
        : tdNum(q.dlq);
      // a count over 0 opens that list of jobs
      var list = function (n, jobState, warn) {
        return typeof n === "number" && n > 0
          ? tdHtml(button("jobs-queue", num(n), { queue: name, state: jobState }, warn ? "link warn" : "link"), "num")
          : tdNum(n);
      };
      return '<tr><th scope="row">' + esc(name) + "</th>" +
        list(q.pending, "pending") + list(q.started, "active") + list(q.scheduled, "scheduled") + list(q.finished, "completed") +
        list(q.failed, "failed", true) + list(q.deferred, "deferred") + dlq +
        td(q.oldestPendingAgeMs === null || q.oldestPendingAgeMs === undefined ? DASH : fmtDuration(q.oldestPendingAgeMs), "num") +
        tdNum(q.streamLength) + td(totalsText(q.totals), "totals") + "</tr>";
    });
    return table(["queue", "pending", "started", "scheduled", "finished", "failed", "deferred", "DLQ",
      "oldest pending", "stream length", "lifetime totals"], rows);
  }

  /** GET /v1/stats -> the workers table, with suspend / resume buttons. */
  function renderWorkers(stats) {
    var w = isObj(stats) ? stats.workers : null;
    if (!isObj(w)) return empty("This deployment has no worker registry.");
    var summary = '<p class="summary">' + esc(num(w.total)) + " workers: " + esc(num(w.idle)) + " idle, " +
      esc(num(w.busy)) + " busy, " + esc(num(w.suspended)) + " suspended</p>";
    var list = Array.isArray(w.workers) ? w.workers.filter(isObj) : [];
    if (list.length === 0) return summary + empty("No workers registered.");
    var rows = list.map(function (x) {
      var action = x.state === "suspended"
        ? button("worker-resume", "Resume", { id: x.workerId })
        : button("worker-suspend", "Suspend", { id: x.workerId }, "danger");
      return "<tr>" + tdHtml(code(x.workerId)) + tdHtml(badge(x.state)) +
        td(num(x.active_jobs) + " / " + num(x.concurrency), "num") + tdNum(x.jobs_processed) + tdNum(x.jobs_failed, true) +
        td(typeof x.uptime_seconds === "number" ? fmtDuration(x.uptime_seconds * 1000) : DASH, "num") +
        td(Array.isArray(x.queues) ? x.queues.join(", ") : "") +
        td(Array.isArray(x.permission_levels) ? x.permission_levels.join(", ") : "") +
        td(text(x.host) + (x.pid !== undefined ? " (pid " + num(x.pid) + ")" : "")) +
        td(fmtTime(x.last_beat_at)) + tdHtml(action) + "</tr>";
    });
    return summary + table(["worker", "state", "active", "processed", "failed", "uptime", "queues", "levels", "host",
      "last heartbeat", ""], rows);
  }

  function renderError(err) {
    if (!isObj(err)) return "";
    return '<div class="errbox"><p><strong>' + esc(text(err.name)) + "</strong>: " + esc(err.message) +
      (err.code ? " (" + code(err.code) + ")" : "") + "</p>" + (err.stack ? pre(err.stack) : "") + "</div>";
  }

  /**
   * GET /v1/jobs/{id} or GET /v1/dlq/{id} -> the job's record. opts.dlq adds the DLQ actions
   * (replay, purge); otherwise a job that has not finished gets a cancel button.
   */
  function renderJob(job, opts) {
    if (!isObj(job)) return empty("No job.");
    var o = opts || {};
    var actions = "";
    if (o.dlq) {
      actions = button("dlq-replay-one", "Replay", { id: job.id }) + " " + button("dlq-purge", "Purge", { id: job.id }, "danger");
    } else if (TERMINAL.indexOf(job.status) < 0) {
      actions = button("job-cancel", "Cancel job", { id: job.id }, "danger");
    }
    var out = '<div class="job"><div class="bar"><h3>Job ' + code(job.id) + " " + badge(job.status) + "</h3>" + actions + "</div>";
    out += '<dl class="kv">' +
      kv("queue", job.queue) + kv("type", job.type) + kv("priority", job.priority) + kv("permission level", job.permissionLevel) +
      kv("attempts", num(job.attempts) + " of " + num(job.maxAttempts)) +
      kv("timeout", typeof job.timeoutMs === "number" ? fmtDuration(job.timeoutMs) : DASH) +
      kv("worker", job.worker) + kv("lease expires", fmtTime(job.leaseExpiresAt)) +
      kv("created", fmtTime(job.createdAt)) + kv("enqueued", fmtTime(job.enqueuedAt)) + kv("ready", fmtTime(job.readyAt)) +
      kv("started", fmtTime(job.startedAt)) + kv("finished", fmtTime(job.finishedAt)) +
      kv("next attempt", fmtTime(job.nextAttemptAt)) + kv("record expires", fmtTime(job.expiresAt));
    if (isObj(job.deadLetter)) out += kv("dead-lettered", fmtTime(job.deadLetter.at) + " (" + text(job.deadLetter.reason) + ")");
    if (job.cancelReason) out += kv("cancel reason", job.cancelReason);
    if (job.callbackUrl) out += kv("callback URL", job.callbackUrl);
    if (Array.isArray(job.undecryptableFields) && job.undecryptableFields.length > 0) {
      out += kv("undecryptable fields", job.undecryptableFields.join(", "));
    }
    out += "</dl>";
    if (job.error) out += "<h4>Error</h4>" + renderError(job.error);
    if (job.result !== null && job.result !== undefined) out += "<h4>Result</h4>" + pre(json(job.result));
    if (job.progress !== null && job.progress !== undefined) out += "<h4>Progress</h4>" + pre(json(job.progress));
    out += "<h4>Payload</h4>" + pre(json(job.payload));
    var history = Array.isArray(job.history) ? job.history.filter(isObj) : [];
    if (history.length > 0) {
      out += "<h4>History</h4>" + table(["at", "status", "attempt", "worker", "error", "reason"], history.map(function (h) {
        return "<tr>" + td(fmtTime(h.at)) + tdHtml(badge(h.status)) + td(num(h.attempt), "num") + td(text(h.worker)) +
          td(text(h.error)) + td(text(h.reason)) + "</tr>";
      }));
    }
    return out + "</div>";
  }

  /** GET /v1/schedules -> one row per schedule: its cron, next and last run, the last run's job, delete. */
  function renderSchedules(list) {
    var schedules = isObj(list) && Array.isArray(list.schedules) ? list.schedules.filter(isObj) : [];
    if (schedules.length === 0) return empty("No recurring schedules.");
    var rows = schedules.map(function (s) {
      var job = isObj(s.job) ? s.job : {};
      var where = job.queue ? "queue " + text(job.queue) : "priority " + text(job.priority || "normal");
      var what = text(job.type || "job") + " \u00b7 " + where;
      return "<tr>" + tdHtml(code(s.name)) + tdHtml(code(s.cron)) + td(fmtTime(s.nextRunAt)) + td(fmtTime(s.lastRunAt)) +
        td(num(s.runs), "num") + td(what) +
        tdHtml(s.lastJobId ? button("open-job", text(s.lastJobId), { id: s.lastJobId }, "link mono") : DASH) +
        tdHtml(button("schedule-delete", "Delete", { name: s.name }, "danger")) + "</tr>";
    });
    return table(["schedule", "cron (UTC)", "next run", "last run", "runs", "job", "last job", ""], rows);
  }

  /**
   * GET /v1/jobs -> one row per job (its id opens the record), and the pager (opts.hasPrevious:
   * not the first page). opts.queue / opts.state name the list for its empty message.
   */
  function renderJobList(page, opts) {
    var o = opts || {};
    var jobs = isObj(page) && Array.isArray(page.jobs) ? page.jobs.filter(isObj) : [];
    var pager = "";
    if (o.hasPrevious || (isObj(page) && page.nextCursor)) {
      pager = '<div class="pager">' + (o.hasPrevious ? button("jobs-first", "\u2190 First page", {}) : "") +
        (isObj(page) && page.nextCursor ? " " + button("jobs-next", "Next page \u2192", {}) : "") + "</div>";
    }
    if (jobs.length === 0) return empty("No " + text(o.state) + " jobs in " + text(o.queue) + ".") + pager;
    var rows = jobs.map(function (j) {
      var at = j.finishedAt || j.runAt || j.startedAt || j.enqueuedAt;
      var err = isObj(j.error) ? text(j.error.name) + ": " + String(j.error.message) : DASH;
      return "<tr>" + tdHtml(button("open-job", text(j.id), { id: j.id }, "link mono")) + tdHtml(badge(j.status)) +
        td(text(j.type)) + td(text(j.priority)) + td(text(j.permissionLevel)) + td(num(j.attempts) + " / " + num(j.maxAttempts), "num") +
        td(fmtTime(at)) + td(text(j.worker)) + td(clip(err, 200), "error") + "</tr>";
    });
    return table(["id", "status", "type", "priority", "level", "attempts", "at", "worker", "last error"], rows) + pager;
  }

  /**
   * GET /v1/dlq -> the entries with checkboxes (opts.selected: id -> true), each fingerprint a
   * button that filters by it, per-entry inspect / replay / purge, and the pager
   * (opts.hasPrevious: not the first page).
   */
  function renderDlq(page, opts) {
    var o = opts || {};
    var selected = isObj(o.selected) ? o.selected : {};
    var entries = isObj(page) && Array.isArray(page.entries) ? page.entries.filter(isObj) : [];
    var pager = "";
    if (o.hasPrevious || (isObj(page) && page.nextCursor)) {
      pager = '<div class="pager">' + (o.hasPrevious ? button("dlq-first", "\u2190 First page", {}) : "") +
        (isObj(page) && page.nextCursor ? " " + button("dlq-next", "Next page \u2192", {}) : "") + "</div>";
    }
    if (entries.length === 0) return empty(o.filtered ? "No dead-lettered jobs match these filters." : "The dead-letter queue is empty.") + pager;
    var rows = entries.map(function (e) {
      var err = isObj(e.error) ? text(e.error.name) + ": " + String(e.error.message) : DASH;
      return "<tr>" +
        tdHtml('<input type="checkbox" class="dlq-select" data-id="' + esc(e.id) + '" aria-label="select ' + esc(e.id) + '"' +
          (selected[e.id] === true ? " checked" : "") + ">") +
        tdHtml(code(e.id)) + td(text(e.queue)) + td(text(e.type)) + td(text(e.reason)) + td(fmtTime(e.deadLetteredAt)) +
        td(num(e.attempts), "num") + td(clip(err, 300), "error") +
        tdHtml(e.fingerprint ? button("dlq-fingerprint", e.fingerprint, { fp: e.fingerprint }, "link mono") : DASH) +
        tdHtml(button("dlq-inspect", "Inspect", { id: e.id }) + " " + button("dlq-replay-one", "Replay", { id: e.id }) + " " +
          button("dlq-purge", "Purge", { id: e.id }, "danger"), "actions") +
        "</tr>";
    });
    var all = '<input type="checkbox" id="dlq-select-all" aria-label="select all on this page">';
    return '<table class="grid"><thead><tr><th>' + all + "</th>" +
      ["id", "queue", "type", "reason", "dead-lettered", "attempts", "error", "fingerprint", ""].map(function (h) {
        return "<th>" + esc(h) + "</th>";
      }).join("") + "</tr></thead><tbody>" + rows.join("") + "</tbody></table>" + pager;
  }

  /** POST /v1/dlq/replay's results -> one line per id. */
  function replayText(reply) {
    var results = isObj(reply) && Array.isArray(reply.results) ? reply.results.filter(isObj) : [];
    return results.map(function (r) { return String(r.id) + ": " + String(r.outcome); }).join(", ");
  }

  /** GET /v1/requests?status=open -> one card per question, each with its answer form. */
  function renderQuestions(list) {
    var requests = isObj(list) && Array.isArray(list.requests) ? list.requests.filter(isObj) : [];
    if (requests.length === 0) return empty("No open worker questions.");
    return requests.map(function (r) {
      var suggested = r.request_type === "approval" ? "approval" : "answer";
      var options = RESPONSE_TYPES.map(function (t) {
        return '<option value="' + t + '"' + (t === suggested ? " selected" : "") + ">" + t + "</option>";
      }).join("");
      var context = isObj(r.context) && Object.keys(r.context).length > 0
        ? "<details><summary>Context</summary>" + pre(json(r.context)) + "</details>"
        : "";
      return '<article class="question">' +
        '<div class="meta">' + badge(r.status || "open") + " " + esc(text(r.request_type)) + " from " + code(r.worker_id) +
        " on job " + button("open-job", text(r.work_order_id), { id: r.work_order_id }, "link mono") +
        " \u00b7 asked " + esc(fmtTime(r.created_at)) + " \u00b7 expires " + esc(fmtTime(r.expires_at)) + "</div>" +
        '<p class="message">' + esc(r.message) + "</p>" + context +
        '<p class="muted">request ' + code(r.id) + " \u00b7 conversation " + code(r.conversation_id) +
        (r.parent_message_id ? " \u00b7 replying to " + code(r.parent_message_id) : "") + "</p>" +
        '<form class="answer" data-request-id="' + esc(r.id) + '">' +
        "<label>Response <select name=\"response_type\">" + options + "</select></label>" +
        '<label>Message <textarea name="message" rows="3" maxlength="100000"></textarea></label>' +
        '<label>Instructions, one per line (optional) <textarea name="instructions" rows="2"></textarea></label>' +
        '<button type="submit">Send answer</button> <span class="form-status" role="status"></span>' +
        "</form></article>";
    }).join("");
  }

  // ---- DOM layer --------------------------------------------------------------------------------

  function init() {
    var state = {
      key: null, tab: "queues", stats: null, statsBusy: false,
      dlqFilters: {}, dlqCursor: null, dlqCursors: [], dlqPage: null, selected: {},
      jobsFilters: {}, jobsCursor: null, jobsCursors: [], jobsPage: null
    };
    try { state.key = window.sessionStorage.getItem(KEY_STORAGE); } catch (e) { state.key = null; }

    function $(id) { return document.getElementById(id); }
    /** The only HTML sink: its argument always comes from a render function above. */
    function setHtml(id, html) { $(id).innerHTML = html; }
    function say(el, message, isError) {
      if (typeof el === "string") el = $(el);
      if (!el) return;
      el.textContent = message || "";
      el.classList.toggle("error", !!isError);
    }

    function api(name, req) {
      var r = req || {};
      var ep = ENDPOINTS[name];
      var init = {
        method: ep[0],
        headers: { authorization: "Bearer " + state.key, accept: "application/json" },
        cache: "no-store",
        credentials: "omit",
        referrerPolicy: "no-referrer"
      };
      if (r.body !== undefined) {
        init.headers["content-type"] = "application/json";
        init.body = JSON.stringify(r.body);
      }
      return fetch(endpointUrl(name, r.params, r.query), init).then(function (res) {
        return res.text().then(function (raw) {
          var body = null;
          try { body = raw ? JSON.parse(raw) : null; } catch (e) { body = null; }
          if (!res.ok) {
            var err = new Error(errorText(res.status, body));
            err.status = res.status;
            if (res.status === 401) signOut(err.message);
            throw err;
          }
          return body;
        });
      });
    }

    function signedIn() {
      $("key-panel").hidden = true;
      $("tabs").hidden = false;
      $("sign-out").hidden = false;
      showTab(state.tab);
    }
    function signOut(message) {
      state.key = null;
      try { window.sessionStorage.removeItem(KEY_STORAGE); } catch (e) { /* storage disabled */ }
      ["queues", "schedules", "workers", "job", "jobs", "dlq", "dlq-detail", "questions"].forEach(function (id) { setHtml(id, ""); });
      state.jobsPage = null;
      state.stats = null;
      state.dlqPage = null;
      state.selected = {};
      document.querySelectorAll("section.view").forEach(function (s) { s.hidden = true; });
      $("tabs").hidden = true;
      $("sign-out").hidden = true;
      $("key-panel").hidden = false;
      say("key-status", message || "", !!message);
      $("key-input").focus();
    }

    function showTab(tab) {
      if (!$("view-" + tab)) tab = "queues";
      state.tab = tab;
      document.querySelectorAll("section.view").forEach(function (s) { s.hidden = s.id !== "view-" + tab; });
      document.querySelectorAll("#tabs [data-tab]").forEach(function (b) {
        b.setAttribute("aria-selected", b.getAttribute("data-tab") === tab ? "true" : "false");
      });
      if (window.location.hash !== "#" + tab) window.history.replaceState(null, "", "#" + tab);
      if (tab === "queues" || tab === "workers") loadStats();
      if (tab === "queues") loadSchedules();
      else if (tab === "dlq" && state.dlqPage === null) loadDlq();
      else if (tab === "questions") loadQuestions();
      else if (tab === "jobs") $("job-id").focus();
    }

    function loadSchedules(after) {
      api("schedulesList").then(function (list) {
        setHtml("schedules", renderSchedules(list));
        say("schedules-status", after || "");
      }).catch(function (e) {
        setHtml("schedules", "");
        say("schedules-status", e.message, true);
      });
    }

    function loadStats() {
      if (!state.key || state.statsBusy) return;
      state.statsBusy = true;
      api("stats").then(function (stats) {
        state.stats = stats;
        setHtml("queues", renderQueues(stats));
        setHtml("workers", renderWorkers(stats));
        say("queues-status", "");
        say("stats-updated", "updated " + new Date().toLocaleTimeString());
      }).catch(function (e) {
        say("queues-status", e.message, true);
        say("workers-status", e.message, true);
      }).then(function () { state.statsBusy = false; });
    }

    // after: the status line to show once loaded (the outcome of the action that caused the reload).
    function loadJob(id, after) {
      id = trim(id || "");
      if (!id) return;
      $("job-id").value = id;
      say("job-status", "Loading\u2026");
      api("getJob", { params: { id: id } }).then(function (job) {
        setHtml("job", renderJob(job));
        say("job-status", after || "");
      }).catch(function (e) {
        setHtml("job", "");
        say("job-status", e.message, true);
      });
    }

    function readJobsFilters() {
      var f = $("jobs-filters").elements;
      return { queue: f.queue.value, state: f.state.value };
    }
    // Pages follow the list they started on (state.jobsFilters), not whatever the form shows now.
    function loadJobs(after) {
      var q = jobsQuery(state.jobsFilters, state.jobsCursor);
      say("jobs-status", "Loading\u2026");
      api("listJobs", { query: q }).then(function (page) {
        state.jobsPage = page;
        setHtml("jobs", renderJobList(page, { hasPrevious: state.jobsCursors.length > 0, queue: q.queue, state: q.state }));
        say("jobs-status", after || "");
      }).catch(function (e) {
        setHtml("jobs", "");
        say("jobs-status", e.message, true);
      });
    }
    function firstJobsPage() {
      state.jobsCursor = null;
      state.jobsCursors = [];
      loadJobs();
    }
    /** A new list from the form's queue and state, first page. */
    function listJobsFromForm() {
      state.jobsFilters = readJobsFilters();
      firstJobsPage();
    }

    function readDlqFilters() {
      var f = $("dlq-filters").elements;
      return { queue: f.queue.value, reason: f.reason.value, error: f.error.value, fingerprint: f.fingerprint.value, limit: f.limit.value };
    }
    function updateReplaySelected() {
      var n = Object.keys(state.selected).length;
      var b = $("dlq-replay-selected");
      b.disabled = n === 0;
      b.textContent = n === 0 ? "Replay selected" : "Replay selected (" + n + ")";
    }
    function loadDlq(after) {
      state.dlqFilters = readDlqFilters();
      var filtered = !!(state.dlqFilters.queue || state.dlqFilters.reason || state.dlqFilters.error || state.dlqFilters.fingerprint);
      say("dlq-status", "Loading\u2026");
      api("dlqList", { query: dlqQuery(state.dlqFilters, state.dlqCursor) }).then(function (page) {
        state.dlqPage = page;
        setHtml("dlq", renderDlq(page, { selected: state.selected, hasPrevious: state.dlqCursors.length > 0, filtered: filtered }));
        say("dlq-status", after || "");
      }).catch(function (e) {
        say("dlq-status", e.message, true);
      });
      updateReplaySelected();
    }
    function reloadDlqFromStart(after) {
      state.dlqCursor = null;
      state.dlqCursors = [];
      loadDlq(after);
    }
    function replay(ids) {
      if (ids.length === 0) return;
      say("dlq-status", "Replaying\u2026");
      api("dlqReplay", { body: { ids: ids } }).then(function (reply) {
        ids.forEach(function (id) { delete state.selected[id]; });
        setHtml("dlq-detail", "");
        reloadDlqFromStart("Replayed \u2014 " + replayText(reply));
      }).catch(function (e) { say("dlq-status", e.message, true); });
    }

    function loadQuestions() {
      say("questions-status", "Loading\u2026");
      api("listRequests", { query: { status: "open", limit: "100" } }).then(function (list) {
        setHtml("questions", renderQuestions(list));
        say("questions-status", "");
      }).catch(function (e) { say("questions-status", e.message, true); });
    }

    function onAction(b) {
      var action = b.getAttribute("data-action");
      var id = b.getAttribute("data-id");
      if (action === "tab") showTab(b.getAttribute("data-tab"));
      else if (action === "sign-out") signOut("");
      else if (action === "refresh-stats") {
        loadStats();
        if (state.tab === "queues") loadSchedules();
      }
      else if (action === "refresh-dlq") loadDlq();
      else if (action === "refresh-questions") loadQuestions();
      else if (action === "worker-suspend" || action === "worker-resume") {
        var suspend = action === "worker-suspend";
        say("workers-status", (suspend ? "Suspending " : "Resuming ") + id + "\u2026");
        api(suspend ? "workerSuspend" : "workerResume", { params: { id: id } }).then(function () {
          say("workers-status", "Worker " + id + (suspend ? " suspended: it finishes what it holds and claims nothing new." : " resumed."));
          loadStats();
        }).catch(function (e) { say("workers-status", e.message, true); });
      } else if (action === "schedule-delete") {
        var name = b.getAttribute("data-name");
        if (!window.confirm("Delete the recurring schedule " + name + "? Jobs it already enqueued stay.")) return;
        api("schedulesDelete", { params: { name: name } }).then(function () {
          loadSchedules("Deleted " + name + ".");
        }).catch(function (e) { say("schedules-status", e.message, true); });
      } else if (action === "jobs-queue") {
        $("jobs-filters").elements.queue.value = b.getAttribute("data-queue");
        $("jobs-filters").elements.state.value = b.getAttribute("data-state");
        showTab("jobs");
        listJobsFromForm();
      } else if (action === "jobs-next" && state.jobsPage && state.jobsPage.nextCursor) {
        state.jobsCursors.push(state.jobsCursor);
        state.jobsCursor = state.jobsPage.nextCursor;
        loadJobs();
      } else if (action === "jobs-first") firstJobsPage();
      else if (action === "open-job") {
        showTab("jobs");
        loadJob(id);
      } else if (action === "job-cancel") {
        if (!window.confirm("Cancel job " + id + "?")) return;
        api("cancelJob", { params: { id: id } }).then(function (r) {
          loadJob(id, "Cancelled (was " + r.previous + ").");
        }).catch(function (e) { say("job-status", e.message, true); });
      } else if (action === "dlq-queue") {
        $("dlq-filters").elements.queue.value = b.getAttribute("data-queue");
        showTab("dlq");
        reloadDlqFromStart();
      } else if (action === "dlq-fingerprint") {
        $("dlq-filters").elements.fingerprint.value = b.getAttribute("data-fp");
        reloadDlqFromStart();
      } else if (action === "dlq-next" && state.dlqPage && state.dlqPage.nextCursor) {
        state.dlqCursors.push(state.dlqCursor);
        state.dlqCursor = state.dlqPage.nextCursor;
        loadDlq();
      } else if (action === "dlq-first") reloadDlqFromStart();
      else if (action === "dlq-inspect") {
        api("dlqShow", { params: { id: id } }).then(function (job) {
          setHtml("dlq-detail", renderJob(job, { dlq: true }));
          $("dlq-detail").scrollIntoView({ block: "nearest" });
        }).catch(function (e) { say("dlq-status", e.message, true); });
      } else if (action === "dlq-replay-one") replay([id]);
      else if (action === "dlq-replay-selected") replay(Object.keys(state.selected));
      else if (action === "dlq-purge") {
        if (!window.confirm("Delete dead-lettered job " + id + " for good?")) return;
        api("dlqPurgeOne", { params: { id: id } }).then(function () {
          delete state.selected[id];
          setHtml("dlq-detail", "");
          loadDlq("Purged " + id + ".");
        }).catch(function (e) { say("dlq-status", e.message, true); });
      }
    }

    document.addEventListener("click", function (ev) {
      var b = ev.target instanceof Element ? ev.target.closest("[data-action]") : null;
      if (b) {
        ev.preventDefault();
        onAction(b);
      }
    });
    document.addEventListener("change", function (ev) {
      var t = ev.target;
      if (!(t instanceof HTMLInputElement)) return;
      if (t.classList.contains("dlq-select")) {
        if (t.checked) state.selected[t.getAttribute("data-id")] = true;
        else delete state.selected[t.getAttribute("data-id")];
        updateReplaySelected();
      } else if (t.id === "dlq-select-all") {
        document.querySelectorAll("input.dlq-select").forEach(function (c) {
          c.checked = t.checked;
          if (t.checked) state.selected[c.getAttribute("data-id")] = true;
          else delete state.selected[c.getAttribute("data-id")];
        });
        updateReplaySelected();
      }
    });
    document.addEventListener("submit", function (ev) {
      var form = ev.target;
      if (!(form instanceof HTMLFormElement)) return;
      ev.preventDefault();
      // getAttribute, not form.id: a form's controls shadow its properties (a control named "id" would be form.id)
      var formId = form.getAttribute("id");
      if (formId === "key-form") {
        var key = trim($("key-input").value);
        $("key-input").value = "";
        if (!/^\S+$/.test(key)) return say("key-status", "Paste an API key (ws_<id>_<secret>).", true);
        state.key = key;
        try { window.sessionStorage.setItem(KEY_STORAGE, key); } catch (e) { /* kept in memory only */ }
        say("key-status", "");
        signedIn();
      } else if (formId === "job-form") {
        loadJob($("job-id").value);
      } else if (formId === "jobs-filters") {
        listJobsFromForm();
      } else if (formId === "dlq-filters") {
        reloadDlqFromStart();
      } else if (form.classList.contains("answer")) {
        var status = form.querySelector(".form-status");
        var requestId = form.getAttribute("data-request-id");
        var body = answerBody({
          response_type: form.elements.response_type.value,
          message: form.elements.message.value,
          instructions: form.elements.instructions.value
        });
        say(status, "Sending\u2026");
        api("answerRequest", { params: { requestId: requestId }, body: body }).then(function () {
          say(status, "Answered.");
          window.setTimeout(loadQuestions, 800);
        }).catch(function (e) { say(status, e.message, true); });
      }
    });
    document.addEventListener("reset", function (ev) {
      if (ev.target instanceof HTMLFormElement && ev.target.getAttribute("id") === "dlq-filters") window.setTimeout(function () { reloadDlqFromStart(); }, 0);
    });

    window.setInterval(function () {
      if (state.key && (state.tab === "queues" || state.tab === "workers") && !document.hidden) {
        loadStats();
        if (state.tab === "queues") loadSchedules();
      }
    }, REFRESH_MS);

    state.tab = (window.location.hash || "#queues").slice(1);
    if (state.key) signedIn();
    else signOut("");
  }

  if (typeof document !== "undefined") {
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
    else init();
  }

  return {
    ENDPOINTS: ENDPOINTS,
    esc: esc,
    endpointUrl: endpointUrl,
    jobsQuery: jobsQuery,
    dlqQuery: dlqQuery,
    answerBody: answerBody,
    errorText: errorText,
    replayText: replayText,
    renderQueues: renderQueues,
    renderWorkers: renderWorkers,
    renderJob: renderJob,
    renderJobList: renderJobList,
    renderSchedules: renderSchedules,
    renderDlq: renderDlq,
    renderQuestions: renderQuestions
  };
})();
`;
