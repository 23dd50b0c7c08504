"use strict";
// The review page's keyboard and full view: a person clears a long review queue without a mouse.
// ``page`` is what serve.js lends: the files, the focus, and how to move and act.
window.FaceCleanKeys = (page) => {
  const T = window.FaceCleanTiles;
  const $ = (id) => document.getElementById(id);
  let viewing = false;

  function openViewer() {
    const it = page.focus && page.items.get(page.focus);
    if (!it) return closeViewer();
    viewing = true;
    page.onViewer(true);
    const fit = Math.min(1, (innerWidth * 0.92) / (it.width || 1), (innerHeight * 0.8) / (it.height || 1));
    const big = it.present && it.status === "analysed" && it.width
      ? { src: "/photo/" + encodeURIComponent(it.id), w: Math.round(it.width * fit), h: Math.round(it.height * fit) } : null;
    $("viewer-frame").replaceChildren(T.frame(it, big));
    const faces = it.faces.map((f) => (f.gender || "face") + T.pct(f.p)).join(", ") || "no face";
    $("viewer-caption").textContent = it.path + " \u2014 " + it.rule + " \u2192 " + it.action +
      (it.reason ? " (" + it.reason + ")" : "") + " \u2014 " + faces + "  [k keep \u00b7 r reject \u00b7 l leave \u00b7 Esc close]";
    $("viewer").hidden = false;
  }

  function closeViewer() { viewing = false; page.onViewer(false); $("viewer").hidden = true; }
  $("viewer").addEventListener("click", closeViewer);

  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey || (e.target.closest && e.target.closest("input, select, button"))) return;
    const keys = {
      ArrowRight: () => page.step(1), ArrowLeft: () => page.step(-1), n: () => page.step(1), p: () => page.step(-1),
      "]": () => page.go(page.state.page + 1, "first"), "[": () => page.go(page.state.page - 1, "first"),
      k: () => decide("keep"), r: () => decide("reject"), l: () => decide("withdraw"),
      " ": () => toggle(), Enter: () => (viewing ? closeViewer() : openViewer()), f: () => openViewer(),
      Escape: () => (viewing ? closeViewer() : (page.selected.clear(), page.render(), page.bulkCount())),
    };
    const run = keys[e.key];
    if (!run) return;
    e.preventDefault();
    run();
  });

  function decide(action) {
    if (!page.focus) return page.step(0);
    page.act([page.focus], action);
    page.step(1);
  }

  function toggle() {
    const id = page.focus;
    if (!id) return;
    if (page.selected.has(id)) page.selected.delete(id); else page.selected.add(id);
    page.redraw(id);
    page.bulkCount();
  }

  return { openViewer, closeViewer };
};
