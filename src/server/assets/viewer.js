// openctl session viewer. The server renders every message (src/server/render.rs)
// into the page and sends new ones as the same HTML fragments over the event
// stream; this script only places those fragments (a result into its call's
// card, a subagent's work under its Task), follows the session live and keeps
// the reader oriented. It never builds content from transcript data.
"use strict";

(function () {
  const body = document.body;
  const sessionId = body.dataset.session;
  const conversation = document.getElementById("conversation");
  if (!sessionId || !conversation) return;
  const api = "/api/sessions/" + encodeURIComponent(sessionId);
  const statusLine = document.getElementById("status");
  const jump = document.getElementById("jump");
  const end = document.getElementById("end");
  let next = end ? Number(end.dataset.next) || 0 : 0;
  let live = body.dataset.status === "live";
  let follow = live && !location.hash;
  let es = null;
  let retry = null;
  // Results that came before their call: tool_use id -> element.
  const early = new Map();

  // ---- placing fragments -------------------------------------------------

  function parse(html) {
    const t = document.createElement("template");
    t.innerHTML = html; // server-rendered: every transcript byte is escaped there
    return t.content;
  }

  function settle(slot, out) {
    const card = slot.closest(".tool");
    out.classList.remove("orphan");
    const label = out.querySelector(":scope > .out-label");
    if (label && !out.classList.contains("err")) label.remove();
    slot.replaceWith(out);
    if (card) card.classList.toggle("error", out.classList.contains("err"));
  }

  function joinResult(out) {
    const id = out.dataset.for;
    const slot = document.getElementById("r-" + id);
    if (slot && slot.classList.contains("pending")) settle(slot, out);
    else early.set(id, out);
  }

  function joinSlot(slot) {
    const id = slot.id.slice(2);
    const out = early.get(id);
    if (out) {
      early.delete(id);
      settle(slot, out);
    }
  }

  function nestRun(run) {
    const box = run.dataset.parent && document.getElementById("sub-" + run.dataset.parent);
    if (!box) return;
    while (run.firstChild) box.appendChild(run.firstChild);
    run.remove();
  }

  function place(html) {
    const frag = parse(html);
    frag.querySelectorAll(".out[data-for]").forEach(joinResult);
    frag.querySelectorAll(".out.pending[id]").forEach(joinSlot);
    frag.querySelectorAll(".subrun[data-parent]").forEach(nestRun);
    frag.querySelectorAll("time").forEach(localize);
    const empty = document.getElementById("empty");
    if (empty) empty.remove();
    conversation.appendChild(frag);
  }

  // Work from the stream is applied once per frame, a bounded slice at a
  // time, so a long catch-up never blocks the page.
  const queue = [];
  let head = 0;
  let scheduled = false;
  function enqueue(fn) {
    queue.push(fn);
    if (!scheduled) {
      scheduled = true;
      requestAnimationFrame(flush);
    }
  }
  function flush() {
    scheduled = false;
    const t0 = performance.now();
    while (head < queue.length && performance.now() - t0 < 12) queue[head++]();
    if (head === queue.length) {
      queue.length = 0;
      head = 0;
    } else {
      scheduled = true;
      requestAnimationFrame(flush);
    }
    setCount();
    if (follow) toBottom();
  }

  // ---- times in the reader's zone ----------------------------------------

  const full = new Intl.DateTimeFormat(undefined, {
    year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit",
  });
  function localize(t) {
    const d = new Date(t.dateTime);
    if (!isNaN(d)) {
      t.textContent = full.format(d);
      t.title = d.toString();
    }
  }
  function localizeAll() {
    const times = document.getElementsByTagName("time");
    let i = 0;
    const idle = window.requestIdleCallback || ((f) => setTimeout(() => f({ timeRemaining: () => 8 }), 1));
    const step = (deadline) => {
      while (i < times.length && deadline.timeRemaining() > 1) {
        for (const stop = Math.min(i + 200, times.length); i < stop; i++) localize(times[i]);
      }
      if (i < times.length) idle(step);
    };
    idle(step);
  }

  function duration(secs) {
    if (secs < 60) return Math.max(0, Math.floor(secs)) + "s";
    if (secs < 3600) return Math.floor(secs / 60) + "m";
    const m = Math.floor(secs / 60) % 60;
    return Math.floor(secs / 3600) + "h " + (m < 10 ? "0" : "") + m + "m";
  }
  function tick() {
    const d = document.getElementById("duration");
    if (!d || !live) return;
    const start = Date.parse(d.dataset.start);
    if (!isNaN(start)) d.textContent = duration((Date.now() - start) / 1000);
  }

  // ---- header and status -------------------------------------------------

  function setCount() {
    const c = document.getElementById("count");
    if (c && Number(c.textContent) < next) c.textContent = String(next);
  }

  function setTitle(data) {
    const t = data && typeof data.title === "string" && data.title.trim() ? data.title : "Untitled session";
    document.getElementById("title").textContent = t;
    document.title = t + " · openctl";
  }

  function setLive(isLive) {
    live = isLive;
    body.dataset.status = isLive ? "live" : "complete";
    const badge = document.getElementById("badge");
    badge.textContent = isLive ? "Live" : "Complete";
    badge.className = "badge " + (isLive ? "live" : "complete");
    document.querySelectorAll(".out.pending").forEach((s) => {
      s.textContent = isLive ? "running…" : "no result";
    });
    if (!isLive) follow = false;
    showJump();
  }

  function status(text, cls) {
    statusLine.textContent = text || "";
    statusLine.className = "status" + (cls ? " " + cls : "");
  }

  function setDiff(html) {
    const section = document.getElementById("diff-section");
    section.replaceChildren(parse(html));
    section.hidden = false;
  }

  // ---- follow live -------------------------------------------------------

  let lastY = window.scrollY;
  function atBottom() {
    return window.innerHeight + window.scrollY >= document.documentElement.scrollHeight - 80;
  }
  function toBottom() {
    window.scrollTo(0, document.documentElement.scrollHeight);
    lastY = window.scrollY;
  }
  function showJump() {
    jump.hidden = !live || follow;
  }
  function stopFollowing() {
    if (follow) {
      follow = false;
      showJump();
    }
  }
  window.addEventListener("scroll", () => {
    const y = window.scrollY;
    // Up and away from the end: the reader did it (a page that got shorter
    // under the view also moves up, but stays at the end).
    if (y < lastY - 20 && !atBottom()) stopFollowing();
    else if (live && !follow && atBottom()) {
      follow = true;
      showJump();
    }
    lastY = y;
  }, { passive: true });
  window.addEventListener("wheel", (e) => { if (e.deltaY < 0) stopFollowing(); }, { passive: true });
  window.addEventListener("keydown", (e) => {
    if (["PageUp", "ArrowUp", "Home"].includes(e.key)) stopFollowing();
  });
  window.addEventListener("hashchange", () => {
    stopFollowing();
    reveal(location.hash);
  });
  // Parts of the page are laid out as they come into view (content-visibility)
  // and images load late: while following, stay at the end whatever grows.
  if (window.ResizeObserver) {
    new ResizeObserver(() => { if (follow) toBottom(); }).observe(conversation);
  }
  jump.addEventListener("click", () => {
    follow = true;
    showJump();
    toBottom();
  });

  function reveal(hash) {
    let target = null;
    try {
      target = hash && document.getElementById(decodeURIComponent(hash.slice(1)));
    } catch (_) { /* a malformed hash */ }
    if (!target) return false;
    for (let d = target.closest("details:not([open])"); d; d = d.parentElement.closest("details:not([open])")) {
      if (d !== target) d.open = true;
    }
    target.scrollIntoView({ block: "start" });
    lastY = window.scrollY;
    return true;
  }

  // ---- the event stream: one per visible page -----------------------------

  function connect() {
    if (es || document.visibilityState !== "visible") return;
    clearTimeout(retry);
    es = new EventSource(api + "/events?view=html&from=" + next);
    body.dataset.stream = "open";
    es.addEventListener("open", () => status(""));
    es.addEventListener("message", (e) => {
      const i = Number(e.lastEventId);
      if (!(i >= next)) return;
      next = i + 1;
      enqueue(() => place(e.data));
    });
    es.addEventListener("title", (e) => {
      try { setTitle(JSON.parse(e.data)); } catch (_) { /* ignore a malformed event */ }
    });
    es.addEventListener("diff", (e) => enqueue(() => setDiff(e.data)));
    es.addEventListener("complete", () => setLive(false));
    es.addEventListener("live", () => setLive(true));
    es.addEventListener("error", () => {
      if (live) status("Connection lost, reconnecting…", "warn");
      if (es && es.readyState === EventSource.CLOSED) {
        disconnect();
        retry = setTimeout(connect, 3000);
      }
    });
  }

  function disconnect() {
    clearTimeout(retry);
    if (es) {
      es.close();
      es = null;
    }
    body.dataset.stream = "closed";
  }

  // A hidden page, or one in the back/forward cache, holds no connection
  // (browsers allow six per server); it catches up from `next` when shown.
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") connect();
    else disconnect();
  });
  window.addEventListener("pagehide", disconnect);
  window.addEventListener("pageshow", (e) => { if (e.persisted) connect(); });

  // ---- start -------------------------------------------------------------

  if ("scrollRestoration" in history) history.scrollRestoration = "manual";
  Array.from(document.getElementsByClassName("orphan")).forEach((o) => { if (o.dataset.for) joinResult(o); });
  Array.from(document.getElementsByClassName("subrun")).forEach(nestRun);
  if (!reveal(location.hash)) {
    if (live) toBottom();
    else window.scrollTo(0, 0);
  }
  showJump();
  localizeAll();
  setInterval(tick, 30000);
  connect();
  body.dataset.ready = "1";
  performance.mark("openctl:ready");
})();
