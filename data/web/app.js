// The scan page: scanners with one button per profile, the progress of a
// scan (server-sent events), where the last documents went, and the queue.
// Everything comes from the daemon's JSON API (README: "The web page").
// No framework; text goes into the page with textContent only.
"use strict";

let session = { csrf: "", downloads: false };
let currentJob = null; // the job whose progress is shown
let myJob = null; // the job this page started
const seen = new Map(); // job id → last event, for events that come before /api/scan's answer

const stateLabels = {
  ready: "Ready",
  "paper-in-feeder": "Paper in feeder",
  busy: "Busy",
  offline: "Offline",
  problem: "Needs attention",
  unknown: "Checking…",
};

function $(id) {
  return document.getElementById(id);
}

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    else if (k.startsWith("data-")) e.setAttribute(k, v);
    else e[k] = v;
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

async function api(path, options) {
  const o = Object.assign({ credentials: "same-origin", cache: "no-store" }, options || {});
  if (o.method === "POST") {
    o.headers = { "Content-Type": "application/json", "X-CSRF-Token": session.csrf };
    o.body = JSON.stringify(o.json || {});
  }
  const r = await fetch(path, o);
  if (r.status === 401) {
    location.replace("/login");
    throw new Error("not logged in");
  }
  $("offline").hidden = true;
  let body = null;
  try {
    body = await r.json();
  } catch (e) {
    body = null;
  }
  if (!r.ok) throw new Error((body && body.error) || "HTTP " + r.status);
  return body;
}

function timeOf(unix) {
  return new Date(unix * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function sentence(text) {
  return text ? text.charAt(0).toUpperCase() + text.slice(1) : text;
}

// --- scanners ---

let scannersShape = "";

function setButtonsEnabled() {
  document.querySelectorAll("button.profile").forEach((b) => {
    b.disabled = myJob !== null || b.getAttribute("data-offline") === "1";
  });
}

// Redraws the scanners only when their set or profiles change; a state that
// changes is updated in place (so that a button keeps its focus).
function renderScanners(list) {
  const box = $("scanners");
  const shape = JSON.stringify(list.scanners.map((s) => [s.name, s.label, s.profiles]));
  if (shape === scannersShape) {
    for (const s of list.scanners) {
      const card = box.querySelector('article[data-scanner="' + CSS.escape(s.name) + '"]');
      const state = card.querySelector(".state");
      state.className = "state state-" + s.state;
      state.title = s.detail;
      state.textContent = stateLabels[s.state] || s.state;
      card.querySelectorAll("button.profile").forEach((b) => b.setAttribute("data-offline", s.state === "offline" ? "1" : "0"));
    }
    setButtonsEnabled();
    return;
  }
  scannersShape = shape;
  box.replaceChildren();
  if (!list.scanners.length) {
    box.append(el("p", { class: "muted" }, "No scanner is configured ([scanner] sections)."));
    return;
  }
  for (const s of list.scanners) {
    const buttons = el("div", { class: "profiles" });
    for (const p of s.profiles) {
      const b = el("button", { type: "button", class: "profile", "data-scanner": s.name, "data-profile": p.name },
        el("span", { class: "profile-name" }, p.name || "Scan"),
        p.default && p.name ? el("span", { class: "profile-note" }, "default") : null);
      b.setAttribute("data-offline", s.state === "offline" ? "1" : "0");
      b.addEventListener("click", () => scan(s.name, p.name));
      buttons.append(b);
    }
    box.append(el("article", { class: "card scanner", "data-scanner": s.name },
      el("div", { class: "scanner-head" }, el("h2", {}, s.label),
        el("span", { class: "state state-" + s.state, title: s.detail }, stateLabels[s.state] || s.state)),
      buttons));
  }
  setButtonsEnabled();
}

async function loadScanners() {
  renderScanners(await api("/api/scanners"));
}

// --- a scan ---

function progressText(stage, pages) {
  switch (stage) {
    case "scanning": return "Scanning page " + (pages + 1) + "…";
    case "page-saved": return "Scanned page " + pages;
    case "assembling": return "Making the PDF (" + pages + (pages === 1 ? " page" : " pages") + ")…";
    case "delivering": return "Delivering…";
    default: return stage;
  }
}

function showProgress(e) {
  currentJob = e.id;
  $("result").hidden = true;
  $("progress").hidden = false;
  $("progress-title").textContent = progressText(e.stage, e.pages);
  $("progress-detail").textContent = "Job " + e.id;
  if (e.stage === "page-saved") $("progress").setAttribute("data-pages", String(e.pages));
}

// What to tell about a job's end, as the desktop button says it.
function describe(r) {
  const delivered = r.delivered || [];
  const error = r.errors && r.errors.length ? sentence(r.errors[0]) : "";
  if (r.result === "done") {
    if (!delivered.length) return ["info", "Scan done", ""];
    const first = delivered[0];
    if (first.startsWith("/")) {
      const cut = first.lastIndexOf("/");
      return ["info", "Saved as " + first.slice(cut + 1),
        "In " + (first.slice(0, cut) || "/") + (delivered.length > 1 ? "\nAlso delivered to:\n" + delivered.slice(1).join("\n") : "")];
    }
    return ["info", "Scan delivered", "To " + delivered.join("\n")];
  }
  if (r.result === "queued")
    return ["queued", "Queued — will deliver when the share is back",
      (error ? error + "\n" : "") + "The scan is kept and goes out by itself; you can go on scanning." +
      (delivered.length ? "\nAlready delivered to:\n" + delivered.join("\n") : "")];
  if (r.result === "partial")
    return ["error", "Only some pages were scanned",
      (error || "The scan was interrupted.") + "\nThe pages before the problem were delivered." +
      (delivered.length ? "\nDelivered to:\n" + delivered.join("\n") : "")];
  if (r.result === "cancelled") return ["info", "Scan cancelled", ""];
  return ["error", "The scan failed", error || "The scan service gave no reason."];
}

function showResult(r) {
  const [kind, title, detail] = describe(r);
  $("progress").hidden = true;
  const box = $("result");
  box.className = "banner " + kind;
  box.setAttribute("data-result", r.result);
  $("result-title").textContent = title;
  $("result-detail").textContent = detail;
  box.hidden = false;
  currentJob = null;
  if (r.id === myJob || myJob === "") myJob = null;
  setButtonsEnabled();
}

function onProgress(e) {
  seen.set(e.id, { kind: "progress", e });
  if (!myJob && !currentJob) currentJob = e.id; // a scan started elsewhere (the copier, the desk)
  if (e.id === currentJob || e.id === myJob) showProgress(e);
}

function onFinished(r) {
  seen.set(r.id, { kind: "finished", e: r });
  if (r.id === currentJob || r.id === myJob) {
    showResult(r);
    loadScanners().catch(() => {});
  }
  loadJobs().catch(() => {});
}

async function scan(scanner, profile) {
  myJob = "";
  setButtonsEnabled();
  $("result").hidden = true;
  showProgress({ id: "…", stage: "Starting…", pages: 0 });
  try {
    const r = await api("/api/scan", { method: "POST", json: { scanner, profile } });
    myJob = r.id;
    currentJob = r.id;
    $("progress-detail").textContent = "Job " + r.id;
    const early = seen.get(r.id);
    if (early && early.kind === "finished") showResult(early.e);
    else if (early) showProgress(early.e);
  } catch (e) {
    myJob = null;
    showResult({ id: "", result: "failed", errors: [e.message] });
  }
  loadScanners().catch(() => {});
}

// --- the queue and the last documents ---

function downBanner(down) {
  const box = $("down");
  box.replaceChildren();
  box.hidden = !down.length;
  if (!down.length) return;
  box.className = "banner queued";
  box.append(el("h2", {}, "Queued — will deliver when the share is back"));
  for (const d of down) {
    const when = d.next_attempt ? " Next try at " + timeOf(d.next_attempt) + "." : "";
    box.append(el("p", { "data-destination": d.destination },
      d.destination + ": " + (d.last_error ? sentence(d.last_error) : "not reachable") + ". " +
      d.jobs + (d.jobs === 1 ? " document waits." : " documents wait.") + when));
  }
}

async function jobAction(id, action) {
  try {
    await api("/api/jobs/" + encodeURIComponent(id) + "/" + action, { method: "POST" });
  } catch (e) {
    showResult({ id: "", result: "failed", errors: [e.message] });
  }
  loadJobs().catch(() => {});
}

function renderQueue(jobs) {
  const box = $("queue");
  box.replaceChildren();
  if (!jobs.length) {
    box.append(el("p", { class: "muted" }, "Nothing waiting."));
    return;
  }
  for (const j of jobs) {
    const dests = el("ul", { class: "list" });
    for (const d of j.destinations || []) {
      const parts = [d.name + ": " + d.state, d.attempts + (d.attempts === 1 ? " attempt" : " attempts")];
      if (d.next_attempt) parts.push("next try " + timeOf(d.next_attempt));
      dests.append(el("li", { "data-destination": d.name }, parts.join(" · "),
        d.last_error ? el("div", { class: "muted" }, "Last error: " + d.last_error) : null));
    }
    const actions = el("div", { class: "actions" });
    if (j.can_retry) {
      const b = el("button", { type: "button", class: "retry" }, "Retry");
      b.addEventListener("click", () => jobAction(j.id, "retry"));
      actions.append(b);
    }
    const c = el("button", { type: "button", class: "cancel" }, "Cancel");
    c.addEventListener("click", () => {
      if (confirm("Drop job " + j.id + " and its pages?")) jobAction(j.id, "cancel");
    });
    actions.append(c);
    if (session.downloads && j.document)
      actions.append(el("a", { href: "/api/jobs/" + encodeURIComponent(j.id) + "/document", class: "button" }, "Download"));
    const head = [j.stage, j.scanner || "", j.pages + (j.pages === 1 ? " page" : " pages")].filter(Boolean).join(" · ");
    box.append(el("article", { class: "job", "data-job": j.id, "data-stage": j.stage },
      el("div", { class: "job-head" }, el("strong", {}, j.id), " ", el("span", { class: "muted" }, head)),
      j.error ? el("div", { class: "error-text" }, j.error) : null,
      j.interrupted ? el("div", { class: "muted" }, j.interrupted) : null,
      dests, actions));
  }
}

function renderRecent(recent) {
  const box = $("recent");
  box.replaceChildren();
  if (!recent.length) {
    box.append(el("li", { class: "muted" }, "Nothing scanned since scand started."));
    return;
  }
  for (const r of recent) {
    const [, title] = describe(r);
    const where = el("ul", { class: "places" });
    (r.delivered || []).forEach((place, i) => {
      const li = el("li", { class: "place" }, place);
      if (session.downloads && (r.downloads || []).includes(i))
        li.append(" ", el("a", { href: "/api/jobs/" + encodeURIComponent(r.id) + "/document/" + i }, "Download"));
      where.append(li);
    });
    box.append(el("li", { "data-job": r.id, "data-result": r.result },
      el("strong", {}, title), " ", el("span", { class: "muted" }, timeOf(r.finished)),
      where, r.errors && r.errors.length && r.result !== "done" ? el("div", { class: "muted" }, r.errors[0]) : null));
  }
}

async function loadJobs() {
  const j = await api("/api/jobs");
  downBanner(j.down || []);
  renderQueue(j.jobs || []);
  renderRecent(j.recent || []);
}

// --- events ---

function listen() {
  const events = new EventSource("/api/events");
  events.addEventListener("hello", () => {
    $("offline").hidden = true;
    loadJobs().catch(() => {});
  });
  events.addEventListener("progress", (m) => onProgress(JSON.parse(m.data)));
  events.addEventListener("finished", (m) => onFinished(JSON.parse(m.data)));
  events.addEventListener("scanners", () => loadScanners().catch(() => {}));
  events.onerror = () => {
    $("offline").hidden = events.readyState !== EventSource.CLOSED && navigator.onLine !== false;
    if (events.readyState === EventSource.CLOSED) {
      // Refused (logged out, restarted): see where we stand, then listen again.
      start().catch(() => setTimeout(listen, 5000));
    }
  };
}

async function start() {
  session = await api("/api/session");
  if (session.login_required && !session.user) {
    location.replace("/login");
    return;
  }
  $("user").textContent = session.user || "";
  $("logout").hidden = !session.user;
  await Promise.all([loadScanners(), loadJobs()]);
  listen();
}

$("logout").addEventListener("click", async () => {
  try {
    await api("/api/logout", { method: "POST" });
  } finally {
    location.replace("/login");
  }
});
$("result-close").addEventListener("click", () => ($("result").hidden = true));
$("progress-cancel").addEventListener("click", () => {
  if (currentJob && currentJob !== "…") jobAction(currentJob, "cancel");
});
setInterval(() => loadJobs().catch(() => ($("offline").hidden = false)), 5000);
setInterval(() => loadScanners().catch(() => {}), 10000);
start().catch(() => ($("offline").hidden = false));
