// openctl session viewer. Everything from the transcript is untrusted: the
// DOM is built with createElement/textContent only (never innerHTML), links
// are limited to http(s), images to inline base64 of known image types.
"use strict";

(function () {
  const sessionId = decodeURIComponent(location.pathname.split("/").filter(Boolean).pop() || "");
  const api = "/api/sessions/" + encodeURIComponent(sessionId);
  const conversation = document.getElementById("conversation");
  const statusLine = document.getElementById("status");
  const toolCards = new Map(); // tool_use id -> result slot
  // Results written before their call (Claude Code does this at times):
  // tool_use id -> {block, orphan}, joined when the call arrives.
  const earlyResults = new Map();
  let nextIndex = 0;
  let live = false;

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function safeHref(url) {
    try {
      const u = new URL(String(url), location.href);
      return u.protocol === "http:" || u.protocol === "https:" ? u.href : null;
    } catch (_) {
      return null;
    }
  }

  // ---- markdown (a safe subset) ----
  // Every repetition is bounded and long lines are left plain, so a hostile
  // transcript line cannot make matching take more than linear time.
  const INLINE = /(`{1,8})([^`]|[^`][\s\S]{0,2000}?[^`])\1(?!`)|\*\*([^*]{1,500})\*\*|__([^_]{1,500})__|\[([^\]]{1,500})\]\(([^)\s]{1,2000})\)|(^|[^\w*])\*([^*\s][^*]{0,500}?)\*(?!\w)|(https?:\/\/[^\s<>()]{0,2000}[^\s<>().,;:!?'"])/;
  const INLINE_MAX = 20000;

  function inline(parent, text) {
    if (text.length > INLINE_MAX) {
      parent.appendChild(document.createTextNode(text));
      return;
    }
    let rest = text;
    while (rest.length) {
      const m = INLINE.exec(rest);
      if (!m) {
        parent.appendChild(document.createTextNode(rest));
        return;
      }
      let start = m.index;
      if (m[7] !== undefined) start += m[7].length; // keep the char before *em*
      if (start > 0) parent.appendChild(document.createTextNode(rest.slice(0, start)));
      if (m[2] !== undefined) parent.appendChild(el("code", "inline", m[2]));
      else if (m[3] !== undefined || m[4] !== undefined) {
        const b = el("strong");
        inline(b, m[3] !== undefined ? m[3] : m[4]);
        parent.appendChild(b);
      } else if (m[5] !== undefined) {
        const href = safeHref(m[6]);
        if (href) {
          const a = el("a", null, m[5]);
          a.href = href;
          a.rel = "noopener noreferrer nofollow";
          a.target = "_blank";
          parent.appendChild(a);
        } else parent.appendChild(document.createTextNode(m[0]));
      } else if (m[8] !== undefined) {
        parent.appendChild(el("em", null, m[8]));
      } else if (m[9] !== undefined) {
        const a = el("a", null, m[9]);
        a.href = safeHref(m[9]) || "#";
        a.rel = "noopener noreferrer nofollow";
        a.target = "_blank";
        parent.appendChild(a);
      }
      rest = rest.slice(m.index + m[0].length);
    }
  }

  function markdown(text) {
    const root = el("div", "md");
    const lines = String(text).replace(/\r\n?/g, "\n").split("\n");
    let para = [];
    let list = null;
    const flush = () => {
      if (para.length) {
        const p = el("p");
        para.forEach((line, i) => {
          if (i) p.appendChild(el("br"));
          inline(p, line);
        });
        root.appendChild(p);
        para = [];
      }
    };
    const endList = () => { list = null; };
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i];
      const fence = /^\s*(```+|~~~+)\s*([\w+-]*)/.exec(line);
      if (fence) {
        flush(); endList();
        const body = [];
        i++;
        while (i < lines.length && !lines[i].trim().startsWith(fence[1])) body.push(lines[i++]);
        const pre = el("pre", "code");
        if (fence[2]) pre.dataset.lang = fence[2];
        pre.appendChild(el("code", null, body.join("\n")));
        root.appendChild(pre);
        continue;
      }
      let m;
      if (!line.trim()) { flush(); endList(); continue; }
      if ((m = /^(#{1,6})\s+(.*)$/.exec(line))) {
        flush(); endList();
        const h = el("h" + Math.min(6, m[1].length + 2));
        inline(h, m[2]);
        root.appendChild(h);
        continue;
      }
      if (/^\s*([-*_])(\s*\1){2,}\s*$/.test(line)) { flush(); endList(); root.appendChild(el("hr")); continue; }
      if ((m = /^\s*>\s?(.*)$/.exec(line))) {
        flush(); endList();
        const q = el("blockquote");
        inline(q, m[1]);
        root.appendChild(q);
        continue;
      }
      if ((m = /^(\s*)([-*+]|\d+[.)])\s+(.*)$/.exec(line))) {
        flush();
        const ordered = /\d/.test(m[2]);
        const tag = ordered ? "ol" : "ul";
        if (!list || list.tagName.toLowerCase() !== tag) {
          list = el(tag);
          root.appendChild(list);
        }
        const li = el("li");
        const task = /^\[([ xX])\]\s+(.*)$/.exec(m[3]);
        if (task) {
          li.appendChild(el("span", "task", task[1] === " " ? "☐ " : "☑ "));
          inline(li, task[2]);
        } else inline(li, m[3]);
        list.appendChild(li);
        continue;
      }
      if (list && /^\s{2,}\S/.test(line)) {
        inline(list.lastChild, " " + line.trim());
        continue;
      }
      endList();
      para.push(line);
    }
    flush();
    return root;
  }

  // ---- blocks ----
  function plain(text, className) {
    return el("div", className || "plain", text);
  }

  function toolSummary(name, input) {
    if (!input || typeof input !== "object") return "";
    const pick = input.command || input.file_path || input.path || input.pattern || input.url ||
      input.query || input.description || input.prompt || "";
    return typeof pick === "string" ? pick.split("\n")[0].slice(0, 160) : "";
  }

  function renderInput(name, input) {
    const box = el("div", "tool-input");
    if (input && typeof input === "object" && typeof input.command === "string") {
      box.appendChild(el("pre", "code shell", "$ " + input.command));
      return box;
    }
    if (input && typeof input === "object" && typeof input.old_string === "string" &&
        typeof input.new_string === "string") {
      if (input.file_path) box.appendChild(el("div", "file", input.file_path));
      const pre = el("pre", "diff");
      input.old_string.split("\n").forEach((l) => pre.appendChild(el("span", "line del", "-" + l)));
      input.new_string.split("\n").forEach((l) => pre.appendChild(el("span", "line add", "+" + l)));
      box.appendChild(pre);
      return box;
    }
    if (input && typeof input === "object" && typeof input.content === "string" && input.file_path) {
      box.appendChild(el("div", "file", input.file_path));
      box.appendChild(el("pre", "code", input.content));
      return box;
    }
    let json;
    try { json = JSON.stringify(input, null, 2); } catch (_) { json = String(input); }
    box.appendChild(el("pre", "code", json === undefined ? "" : json));
    return box;
  }

  function resultContent(content) {
    const box = el("div", "result-body");
    if (typeof content === "string") {
      box.appendChild(el("pre", "code", content));
    } else if (Array.isArray(content)) {
      content.forEach((b) => {
        if (b && b.type === "text") box.appendChild(el("pre", "code", b.text));
        else if (b && b.type === "image") box.appendChild(image(b));
        else box.appendChild(el("pre", "code", JSON.stringify(b)));
      });
    } else if (content !== undefined && content !== null) {
      box.appendChild(el("pre", "code", JSON.stringify(content, null, 2)));
    }
    if (!box.childNodes.length) box.appendChild(el("div", "muted", "(no output)"));
    return box;
  }

  function fillResult(slot, block) {
    slot.textContent = "";
    const error = block.is_error === true;
    slot.classList.remove("pending");
    slot.classList.toggle("error", error);
    slot.closest(".tool").classList.toggle("error", error);
    slot.appendChild(el("div", "pane-label", error ? "Error" : "Result"));
    slot.appendChild(resultContent(block.content));
  }

  function toolUse(block) {
    const card = el("div", "tool");
    const head = el("div", "tool-head");
    head.appendChild(el("span", "tool-name", block.name || "tool"));
    head.appendChild(el("span", "tool-summary", toolSummary(block.name, block.input)));
    card.appendChild(head);
    const grid = el("div", "tool-grid");
    const input = el("div", "pane input");
    input.appendChild(el("div", "pane-label", "Input"));
    input.appendChild(renderInput(block.name, block.input));
    const result = el("div", "pane result pending");
    result.appendChild(el("div", "pane-label", "Result"));
    result.appendChild(el("div", "muted", live ? "running…" : "no result"));
    grid.appendChild(input);
    grid.appendChild(result);
    card.appendChild(grid);
    if (typeof block.id === "string") {
      toolCards.set(block.id, result);
      const early = earlyResults.get(block.id);
      if (early) {
        earlyResults.delete(block.id);
        fillResult(result, early.block);
        // The message that held only this result goes with it.
        const holder = early.orphan.closest(".msg");
        early.orphan.remove();
        if (holder && !holder.querySelector(".msg-body").childNodes.length) holder.remove();
      }
    }
    return card;
  }

  function image(block) {
    const src = block.source || {};
    const types = /^image\/(png|jpeg|gif|webp)$/;
    if (src.type === "base64" && types.test(src.media_type) && typeof src.data === "string" &&
        /^[A-Za-z0-9+/=\s]*$/.test(src.data)) {
      const img = el("img", "image");
      img.alt = "image from the session";
      img.src = "data:" + src.media_type + ";base64," + src.data.replace(/\s/g, "");
      return img;
    }
    if (src.type === "url" && safeHref(src.url)) {
      const a = el("a", "image-link", "image: " + src.url);
      a.href = safeHref(src.url);
      a.rel = "noopener noreferrer nofollow";
      a.target = "_blank";
      return a;
    }
    return el("div", "muted", "[image]");
  }

  function otherBlock(block) {
    const d = el("details", "other");
    d.appendChild(el("summary", null, (block && block.type ? block.type : "block") + " block"));
    let json;
    try { json = JSON.stringify(block, null, 2); } catch (_) { json = String(block); }
    d.appendChild(el("pre", "code", json));
    return d;
  }

  function renderBlock(block, role) {
    if (!block || typeof block !== "object") return otherBlock(block);
    switch (block.type) {
      case "text":
        return role === "assistant" ? markdown(block.text || "") : plain(block.text || "", "prompt-text");
      case "thinking": {
        const d = el("details", "thinking");
        d.appendChild(el("summary", null, "Thinking"));
        d.appendChild(plain(block.thinking || "", "thinking-text"));
        return d;
      }
      case "redacted_thinking":
        return el("div", "thinking redacted", "Thinking (redacted)");
      case "tool_use":
      case "server_tool_use":
        return toolUse(block);
      case "tool_result": {
        const slot = toolCards.get(block.tool_use_id);
        if (slot) {
          fillResult(slot, block);
          return null;
        }
        // A result whose call is not on the page: show it on its own.
        const orphan = el("div", "pane result orphan");
        orphan.classList.toggle("error", block.is_error === true);
        orphan.appendChild(el("div", "pane-label", block.is_error === true ? "Error" : "Tool result"));
        orphan.appendChild(resultContent(block.content));
        if (typeof block.tool_use_id === "string") {
          earlyResults.set(block.tool_use_id, { block: block, orphan: orphan });
        }
        return orphan;
      }
      case "image":
        return image(block);
      default:
        return otherBlock(block);
    }
  }

  function formatTime(ts) {
    if (typeof ts !== "string") return "";
    const d = new Date(ts);
    return isNaN(d) ? "" : d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  function appendMessage(m) {
    if (!m || typeof m.message_index !== "number" || m.message_index < nextIndex) return;
    nextIndex = m.message_index + 1;
    const role = m.role === "assistant" ? "assistant" : "user";
    const blocks = Array.isArray(m.content_blocks) ? m.content_blocks : [];
    const nodes = [];
    blocks.forEach((b) => {
      const n = renderBlock(b, role);
      if (n) nodes.push(n);
    });
    if (!nodes.length) return;
    const follow = nearBottom();
    const msg = el("article", "msg " + role);
    msg.dataset.index = String(m.message_index);
    const head = el("div", "msg-head");
    head.appendChild(el("span", "who", role === "assistant" ? "Claude" : "User"));
    head.appendChild(el("span", "time", formatTime(m.timestamp)));
    msg.appendChild(head);
    const body = el("div", "msg-body");
    nodes.forEach((n) => body.appendChild(n));
    msg.appendChild(body);
    conversation.appendChild(msg);
    if (follow) window.scrollTo(0, document.body.scrollHeight);
  }

  function nearBottom() {
    return window.innerHeight + window.scrollY >= document.body.scrollHeight - 200;
  }

  function setTitle(title) {
    const t = title && String(title).trim() ? String(title) : "Untitled session";
    document.getElementById("title").textContent = t;
    document.title = t + " · openctl";
  }

  function setLive(isLive) {
    live = isLive;
    const badge = document.getElementById("badge");
    badge.textContent = isLive ? "Live" : "Complete";
    badge.className = "badge " + (isLive ? "live" : "complete");
    if (!isLive) {
      toolCards.forEach((slot) => {
        if (slot.classList.contains("pending")) {
          const wait = slot.querySelector(".muted");
          if (wait) wait.textContent = "no result";
        }
      });
    }
  }

  function setMeta(s) {
    const meta = document.getElementById("meta");
    meta.textContent = "";
    const add = (label, value, href) => {
      if (!value) return;
      const item = el("span", "meta-item");
      item.appendChild(el("span", "meta-label", label));
      if (href) {
        const a = el("a", null, value);
        a.href = href;
        a.rel = "noopener noreferrer nofollow";
        a.target = "_blank";
        item.appendChild(a);
      } else item.appendChild(el("span", "meta-value", value));
      meta.appendChild(item);
    };
    const project = s.project_path ? String(s.project_path) : "";
    add("project", project.split("/").filter(Boolean).pop() || project, null);
    if (s.repo_url) {
      const href = safeHref(s.repo_url);
      add("repo", String(s.repo_url).replace(/^https?:\/\//, ""), href);
    }
    add("model", s.model, null);
    add("started", s.created_at ? new Date(s.created_at).toLocaleString() : "", null);
    if (s.description) add("", s.description, null);
  }

  function renderDiff(d) {
    const section = document.getElementById("diff-section");
    const box = document.getElementById("diff");
    if (!d || !d.diff) {
      section.hidden = true;
      return;
    }
    section.hidden = false;
    const stats = document.getElementById("diff-stats");
    stats.textContent = "";
    stats.appendChild(el("span", null, d.files_changed + (d.files_changed === 1 ? " file " : " files ")));
    stats.appendChild(el("span", "add", "+" + d.additions));
    stats.appendChild(document.createTextNode(" "));
    stats.appendChild(el("span", "del", "−" + d.deletions));
    box.textContent = "";
    const pre = el("pre", "diff");
    String(d.diff).split("\n").forEach((line) => {
      let cls = "line";
      if (line.startsWith("diff --git") || line.startsWith("+++ ") || line.startsWith("--- ") || line.startsWith("index ")) cls += " file";
      else if (line.startsWith("@@")) cls += " hunk";
      else if (line.startsWith("+")) cls += " add";
      else if (line.startsWith("-")) cls += " del";
      pre.appendChild(el("span", cls, line));
    });
    box.appendChild(pre);
  }

  function status(text, cls) {
    statusLine.textContent = text || "";
    statusLine.className = "status" + (cls ? " " + cls : "");
  }

  function connect() {
    const es = new EventSource(api + "/events?from=" + nextIndex);
    es.addEventListener("open", () => status(""));
    es.addEventListener("message", (e) => {
      try { appendMessage(JSON.parse(e.data)); } catch (_) { /* ignore a malformed event */ }
    });
    es.addEventListener("title", (e) => {
      try { setTitle(JSON.parse(e.data).title); } catch (_) { /* ignore */ }
    });
    es.addEventListener("diff", (e) => {
      try { renderDiff(JSON.parse(e.data)); } catch (_) { /* ignore */ }
    });
    es.addEventListener("complete", () => setLive(false));
    es.addEventListener("live", () => setLive(true));
    es.addEventListener("error", () => {
      if (live) status("Connection lost, reconnecting…", "warn");
    });
  }

  async function load() {
    if (!sessionId) {
      status("No session id in this address.", "error");
      return;
    }
    try {
      const res = await fetch(api, { headers: { Accept: "application/json" } });
      if (!res.ok) {
        status(res.status === 404 ? "This session does not exist (or was deleted)." : "Could not load the session (" + res.status + ").", "error");
        return;
      }
      const detail = await res.json();
      const s = detail.session || {};
      setTitle(s.title);
      setMeta(s);
      setLive(s.status === "live");
      (detail.messages || []).forEach(appendMessage);
      renderDiff((detail.diffs || [])[0]);
      if (!conversation.childNodes.length) {
        conversation.appendChild(el("p", "muted empty", "No messages yet. They appear here as they happen."));
      }
      connect();
    } catch (e) {
      status("Could not load the session; retrying…", "warn");
      setTimeout(load, 3000);
    }
  }

  const observer = new MutationObserver(() => {
    const empty = conversation.querySelector(".empty");
    if (empty && conversation.querySelector(".msg")) empty.remove();
  });
  observer.observe(conversation, { childList: true });
  load();
})();
