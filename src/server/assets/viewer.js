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

  // Append server-rendered HTML, then join what it holds to what is on
  // the page (and to itself): results to their calls, subagent work to its
  // Task.
  function place(html) {
    const frag = parse(html);
    const outs = Array.from(frag.querySelectorAll(".out.orphan[data-for]"));
    const slots = Array.from(frag.querySelectorAll(".out.pending[id]"));
    const runs = Array.from(frag.querySelectorAll(".subrun[data-parent]"));
    frag.querySelectorAll("time").forEach(localize);
    const end = frag.querySelector(".part-end");
    if (end) {
      next = Math.max(next, Number(end.dataset.next) || 0);
      end.remove();
    }
    const empty = document.getElementById("empty");
    if (empty) empty.remove();
    conversation.appendChild(frag);
    outs.forEach(joinResult);
    slots.forEach(joinSlot);
    runs.forEach(nestRun);
  }

  // ---- the rest of a long session -----------------------------------------

  const CHUNK = '<div class="chunk">';
  const pause = () => (window.scheduler && scheduler.yield ? scheduler.yield() : new Promise((r) => setTimeout(r, 0)));

  // The server sent the first messages of a long session; stream the rest
  // and insert it a few chunks per task (each task parses ~8 ms of HTML),
  // so the page stays responsive and readable while it grows.
  async function loadRest(more) {
    const link = more.innerHTML;
    more.textContent = "Loading the rest of the session…";
    try {
      const res = await fetch(location.pathname + "/part?from=" + encodeURIComponent(more.dataset.from));
      if (!res.ok || !res.body) throw new Error("HTTP " + res.status);
      const reader = res.body.getReader();
      const dec = new TextDecoder();
      let buf = "";
      for (;;) {
        const { done, value } = await reader.read();
        if (value) buf += dec.decode(value, { stream: true });
        if (done) buf += dec.decode();
        let ready = done ? buf.length : buf.lastIndexOf(CHUNK);
        let t0 = performance.now();
        while (ready > 0) {
          let cut = buf.indexOf(CHUNK, 1);
          if (cut < 0 || cut > ready) cut = ready;
          place(buf.slice(0, cut));
          buf = buf.slice(cut);
          ready -= cut;
          if (performance.now() - t0 > 8) {
            await pause();
            t0 = performance.now();
          }
        }
        if (done) break;
      }
      more.remove();
      return true;
    } catch (e) {
      more.innerHTML = link; // the server's own link to the whole page
      status("Could not load the rest of this session (" + e.message + ").", "warn");
      return false;
    }
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
  // The reader's own scrolling ends following and a link's pin.
  window.addEventListener("wheel", (e) => {
    pin = null;
    if (e.deltaY < 0) stopFollowing();
  }, { passive: true });
  window.addEventListener("touchmove", () => { pin = null; }, { passive: true });
  window.addEventListener("keydown", (e) => {
    pin = null;
    if (["PageUp", "ArrowUp", "Home"].includes(e.key)) stopFollowing();
  });
  window.addEventListener("hashchange", () => {
    stopFollowing();
    reveal(location.hash);
  });
  // Parts of the page are laid out as they come into view (content-visibility)
  // and images load late: while following, stay at the end whatever grows.
  // A linked message stays in view while the parts around it get their
  // real sizes.
  let pin = null;
  if (window.ResizeObserver) {
    new ResizeObserver(() => {
      if (follow) toBottom();
      else if (pin && performance.now() < pin.until) {
        pin.el.scrollIntoView({ block: "start" });
        lastY = window.scrollY;
      }
    }).observe(conversation);
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
    pin = { el: target, until: performance.now() + 2000 };
    return true;
  }

  // ---- the event stream: one per visible page -----------------------------

  let loaded = false;
  function connect() {
    if (!loaded || es || document.visibilityState !== "visible") return;
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
  let shown = reveal(location.hash);
  if (!shown && !live) window.scrollTo(0, 0);
  const more = document.getElementById("more");
  (more ? loadRest(more) : Promise.resolve(true)).then(() => {
    loaded = true;
    if (!shown && !reveal(location.hash) && live && follow) toBottom();
    showJump();
    setCount();
    localizeAll();
    setInterval(tick, 30000);
    connect();
    body.dataset.ready = "1";
    performance.mark("openctl:ready");
  });
})();
