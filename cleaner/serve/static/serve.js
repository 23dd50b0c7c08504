"use strict";
// The review page: the folder's files from /api/items (polled: the daemon's new decisions appear within
// seconds), drawn with the report's tiles (tiles.js), and verdicts sent to /api/act with the CSRF token,
// naming photos only by the ids the server gave. Every string from the server is set as text.
(() => {
  const T = window.FaceCleanTiles;
  const { el } = T;
  const $ = (id) => document.getElementById(id);
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const nf = new Intl.NumberFormat("en");
  const PAGE = 200;
  const POLL_MS = 2000;
  const items = new Map(); // id -> item, as the server last described it
  const state = { outcome: "", rule: "", reason: "", find: "", page: 0 };
  const acted = new Set(); // acted on here: they keep their place until a filter changes
  const views = new Map(); // id -> the place (rank, group) a tile acted on keeps until a filter changes
  const marks = new Map(); // id -> "pending" | "keep" | "reject" | "withdraw" | "failed: ..."
  const selected = new Set();
  const queue = [];
  const stats = { renders: 0, done: 0, failed: 0, inflight: 0, polls: 0 };
  let order = [];
  let pages = 1;
  let focus = null;
  let cursor = 0;
  let thumbSize = 160;
  let viewing = false;

  // -- data ------------------------------------------------------------------------------------------
  async function call(url, options) {
    const response = await fetch(url, { credentials: "same-origin", cache: "no-store", ...options });
    if (response.status === 401) { location.href = "/login"; throw new Error("signed out"); }
    return response;
  }

  let loading = false;
  async function load() {
    if (loading) return;
    loading = true;
    try {
      const response = await call("/api/items?since=" + cursor);
      if (!response.ok) return say("cannot read the folder's state (" + response.status + ")", true);
      const data = await response.json();
      const first = cursor === 0;
      thumbSize = data.thumbSize;
      cursor = data.cursor;
      let fresh = false;
      for (const it of data.items) {
        if (!items.has(it.id) && !first) fresh = true;
        items.set(it.id, it);
      }
      stats.polls += 1;
      if (first || fresh) layout();
      else for (const it of data.items) redraw(it.id);
      if (first) { counts(); filters(); } else if (data.items.length) counts();
    } catch (err) {
      say("cannot reach face-clean: " + err.message, true);
    } finally {
      loading = false;
    }
  }

  function say(text, problem) {
    $("status").textContent = text;
    $("status").classList.toggle("problem", !!problem);
  }

  // -- verdicts --------------------------------------------------------------------------------------
  function act(ids, action, undoing) {
    const sent = [];
    for (const id of ids) {
      if (marks.get(id) === "pending" && !undoing) continue; // an undo comes after the verdict it undoes
      const it = items.get(id);
      if (it && !views.has(id)) views.set(id, { rank: it.rank, group: it.group });
      marks.set(id, "pending");
      acted.add(id);
      queue.push({ id, action });
      sent.push(id);
      redraw(id);
    }
    if (sent.length && !undoing && action !== "withdraw") undos.given(sent, action);
    flush();
  }

  async function flush() {
    if (stats.inflight || !queue.length) return;
    const action = queue[0].action;
    const batch = [];
    for (let i = 0; i < queue.length;) {
      if (queue[i].action === action) batch.push(queue.splice(i, 1)[0].id); else i += 1;
    }
    stats.inflight = batch.length;
    try {
      const response = await call("/api/act", {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
        body: JSON.stringify({ action, ids: batch }),
      });
      const data = await response.json().catch(() => ({}));
      if (!response.ok) {
        const why = data.error || (response.status === 403 ? "the page is out of date: reload it" : "refused (" + response.status + ")");
        for (const id of batch) fail(id, why);
        say(why, true);
      } else {
        const answered = new Set();
        for (const r of data.results) {
          answered.add(r.id);
          if (r.item) items.set(r.id, r.item);
          if (r.ok) { marks.set(r.id, action); stats.done += 1; } else fail(r.id, r.detail || "failed");
          redraw(r.id);
        }
        for (const id of batch) if (!answered.has(id)) fail(id, "it had moved meanwhile: nothing was done");
        counts();
        say(nf.format(stats.done) + " done" + (stats.failed ? ", " + nf.format(stats.failed) + " failed" : ""));
      }
    } catch (err) {
      for (const id of batch) fail(id, err.message);
    } finally {
      stats.inflight = 0;
      flush();
    }
  }

  function fail(id, why) {
    marks.set(id, "failed: " + why);
    stats.failed += 1;
    redraw(id);
  }

  // -- what is shown ---------------------------------------------------------------------------------
  const matches = (it) => (!state.outcome || it.outcome === state.outcome) &&
    (!state.rule || it.rule === state.rule) && (!state.reason || (it.reason || "") === state.reason) &&
    (!state.find || it.path.toLowerCase().includes(state.find));

  function view(it) {
    return (acted.has(it.id) && views.get(it.id)) || { rank: it.rank, group: it.group };
  }

  function layout() {
    const was = new Set(order);
    const shown = [...items.values()].filter((it) => (acted.has(it.id) && was.has(it.id)) || matches(it));
    shown.sort((a, b) => {
      const va = view(a), vb = view(b);
      return va.rank - vb.rank || va.group.localeCompare(vb.group) || a.path.localeCompare(b.path);
    });
    order = shown.map((it) => it.id);
    pages = Math.max(1, Math.ceil(order.length / PAGE));
    state.page = Math.min(state.page, pages - 1);
    render();
  }

  function restart() { acted.clear(); views.clear(); state.page = 0; focus = null; layout(); }

  function picture(it) {
    if (!it.present || it.status !== "analysed") return null;
    const s = it.width && it.height ? Math.min(1, thumbSize / Math.max(it.width, it.height)) : 1;
    const w = it.width ? Math.max(1, Math.round(it.width * s)) : thumbSize;
    const h = it.height ? Math.max(1, Math.round(it.height * s)) : thumbSize;
    return { src: "/thumb/" + encodeURIComponent(it.id), w, h };
  }

  function tile(id) {
    const it = items.get(id);
    const pic = picture(it);
    const fig = T.tile(it, pic);
    fig.dataset.id = id;
    const frame = fig.querySelector(".frame");
    if (pic && frame) frame.style.setProperty("--ar", String(pic.w / pic.h)); // a phone's tiles scale it
    fig.tabIndex = -1;
    const mark = marks.get(id);
    if (mark === "pending") fig.classList.add("pending");
    if (mark && mark.startsWith("failed")) fig.classList.add("failed");
    if (id === focus) fig.classList.add("focus");
    const pick = el("input", "pick");
    pick.type = "checkbox";
    pick.checked = selected.has(id);
    pick.title = "select (space)";
    pick.addEventListener("change", () => { if (pick.checked) selected.add(id); else selected.delete(id); bulkCount(); });
    const cap = fig.querySelector("figcaption");
    if (it.verdict && !it.decided_by) cap.append(el("div", "verdict", "verdict on these bytes: " + it.verdict));
    if (mark && mark !== "pending") {
      const label = mark.startsWith("failed") ? mark : { keep: "kept", reject: "rejected", withdraw: "left to the rules" }[mark];
      cap.append(el("div", "done " + (mark.startsWith("failed") ? "failed" : mark), label));
    }
    const acts = el("div", "acts");
    for (const [action, label] of [["keep", "keep"], ["reject", "reject"], ["withdraw", "leave"]]) {
      const b = el("button", action, label);
      b.type = "button";
      b.addEventListener("click", () => { setFocus(id, false); act([id], action); });
      acts.append(b);
    }
    cap.append(acts);
    fig.querySelector(".well").addEventListener("click", () => { setFocus(id, false); openViewer(); });
    fig.prepend(pick);
    return fig;
  }

  function redraw(id) {
    const old = document.querySelector('figure.tile[data-id="' + CSS.escape(id) + '"]');
    if (old) old.replaceWith(tile(id));
    if (viewing && id === focus) openViewer();
  }

  function onPage() { return order.slice(state.page * PAGE, state.page * PAGE + PAGE); }

  function render() {
    const frag = document.createDocumentFragment();
    const inGroup = new Map();
    for (const id of order) { const g = view(items.get(id)).group; inGroup.set(g, (inGroup.get(g) || 0) + 1); }
    let group = null;
    let grid = null;
    for (const id of onPage()) {
      const it = items.get(id);
      const g = view(it).group;
      if (g !== group) {
        group = g;
        let section;
        [section, grid] = T.section(g, g.split(": ")[0], inGroup.get(g), nf);
        section.dataset.group = g;
        frag.append(section);
      }
      grid.append(tile(id));
    }
    if (!order.length) frag.append(el("p", "empty", items.size ? "No file matches these filters." : "No file decided yet."));
    $("tiles").replaceChildren(frag);
    for (const where of ["pager-top", "pager-bottom"]) pager(where);
    stats.renders += 1;
    document.body.dataset.ready = String(stats.renders);
  }

  function pager(where) {
    const prev = el("button", "prev", "\u2039 previous");
    const next = el("button", "next", "next \u203a");
    prev.type = next.type = "button";
    prev.disabled = state.page === 0;
    next.disabled = state.page >= pages - 1;
    prev.addEventListener("click", () => go(state.page - 1));
    next.addEventListener("click", () => go(state.page + 1));
    const from = state.page * PAGE;
    const info = order.length ? nf.format(from + 1) + "\u2013" + nf.format(Math.min(from + PAGE, order.length)) +
      " of " + nf.format(order.length) + (pages > 1 ? " \u00b7 page " + (state.page + 1) + " of " + pages : "") : "no files";
    $(where).replaceChildren(prev, el("span", "info", info), next);
  }

  function go(page, at) {
    if (page < 0 || page >= pages) return false;
    state.page = page;
    render();
    const ids = onPage();
    if (ids.length) setFocus(at === "last" ? ids[ids.length - 1] : ids[0], true);
    return true;
  }

  // -- the keyboard and the full view ----------------------------------------------------------------
  function setFocus(id, scroll) {
    const old = focus;
    focus = id;
    for (const f of [old, id]) {
      const fig = f && document.querySelector('figure.tile[data-id="' + CSS.escape(f) + '"]');
      if (fig) fig.classList.toggle("focus", f === id);
    }
    const now = id && document.querySelector('figure.tile[data-id="' + CSS.escape(id) + '"]');
    if (now && scroll) now.scrollIntoView({ block: "nearest" });
    if (viewing) openViewer();
  }

  function step(by) {
    const ids = onPage();
    const i = ids.indexOf(focus);
    if (i < 0) return ids.length ? setFocus(ids[0], true) : undefined;
    if (i + by >= ids.length) return go(state.page + 1, "first");
    if (i + by < 0) return go(state.page - 1, "last");
    setFocus(ids[i + by], true);
  }

  // the keyboard and the full view (keys.js) work through these
  const page = {
    items, state, selected, get focus() { return focus; }, step, go, act, render, redraw, say,
    undo: () => undos.undo(),
    bulkCount: () => bulkCount(),
    onViewer: (open) => { viewing = open; },
  };
  const keys = window.FaceCleanKeys(page);
  const { counts, filters, bulkCount, undos } = window.FaceCleanFilters(page, restart, onPage);
  const openViewer = keys.openViewer;

  // for tests and the curious
  window.faceCleanServe = () => ({ ...stats, queued: queue.length, shown: order.length, page: state.page, pages,
    focus, cursor, items: items.size, undoable: undos.size() });

  $("toggle-filters").addEventListener("click", () => {
    const open = document.body.classList.toggle("filters-open");
    $("toggle-filters").setAttribute("aria-expanded", String(open));
  });

  load().then(() => { const ids = onPage(); if (ids.length) setFocus(ids[0], false); });
  setInterval(load, POLL_MS);
})();
