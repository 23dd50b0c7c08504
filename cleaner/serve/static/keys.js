"use strict";
// The review page's keyboard and full view: a person clears a long review queue without a mouse, or with
// a thumb on a phone (the full view's buttons, a swipe to the next photo, a tap to zoom).
// ``page`` is what serve.js lends: the files, the focus, and how to move, act and undo.
window.FaceCleanKeys = (page) => {
  const T = window.FaceCleanTiles;
  const $ = (id) => document.getElementById(id);
  let viewing = false;
  let zoomed = false;

  function openViewer() {
    const it = page.focus && page.items.get(page.focus);
    if (!it) return closeViewer();
    viewing = true;
    page.onViewer(true);
    const room = $("viewer-frame").getBoundingClientRect();
    const width = room.width || innerWidth * 0.92;
    const height = room.height || innerHeight * 0.7;
    const fit = Math.min(1, width / (it.width || 1), height / (it.height || 1));
    // zoomed: the photo at the full view's own size (1600 px on its longer side) or twice the screen's
    const scale = zoomed ? Math.max(2 * fit, Math.min(1, 1600 / Math.max(it.width || 1, it.height || 1))) : fit;
    const big = it.present && it.status === "analysed" && it.width
      ? { src: "/photo/" + encodeURIComponent(it.id), w: Math.round(it.width * scale), h: Math.round(it.height * scale) } : null;
    const frame = T.frame(it, big);
    frame.addEventListener("click", (e) => { e.stopPropagation(); zoom(e); });
    $("viewer-frame").replaceChildren(frame);
    $("viewer").classList.toggle("zoomed", zoomed);
    const faces = it.faces.map((f) => (f.gender || "face") + T.pct(f.p)).join(", ") || "no face";
    $("viewer-caption").textContent = it.path + " \u2014 " + it.rule + " \u2192 " + it.action +
      (it.reason ? " (" + it.reason + ")" : "") + " \u2014 " + faces;
    $("viewer").hidden = false;
  }

  // zoom in where the photo was tapped (or its middle), and back
  function zoom(e) {
    const frame = $("viewer-frame");
    const box = frame.firstChild && frame.firstChild.getBoundingClientRect();
    const at = e && box && box.width ? [(e.clientX - box.left) / box.width, (e.clientY - box.top) / box.height] : [0.5, 0.5];
    zoomed = !zoomed;
    openViewer();
    if (zoomed) {
      frame.scrollLeft = at[0] * frame.scrollWidth - frame.clientWidth / 2;
      frame.scrollTop = at[1] * frame.scrollHeight - frame.clientHeight / 2;
    }
  }

  function closeViewer() { viewing = false; zoomed = false; page.onViewer(false); $("viewer").hidden = true; }

  $("viewer").addEventListener("click", (e) => { if (e.target === $("viewer") || e.target.closest(".inner") === e.target) closeViewer(); });
  $("viewer-frame").addEventListener("click", (e) => { if (e.target === $("viewer-frame")) closeViewer(); });
  const buttons = {
    prev: () => { zoomed = false; page.step(-1); }, next: () => { zoomed = false; page.step(1); },
    keep: () => decide("keep"), reject: () => decide("reject"), zoom: () => zoom(null), close: () => closeViewer(),
  };
  for (const b of document.querySelectorAll("#viewer-bar [data-view]")) {
    b.addEventListener("click", (e) => { e.stopPropagation(); buttons[b.dataset.view](); });
  }

  // a swipe across the full view: the next (left) or the previous (right) photo; not while zoomed (that pans)
  let touch = null;
  $("viewer-frame").addEventListener("touchstart", (e) => {
    touch = e.touches.length === 1 ? [e.touches[0].clientX, e.touches[0].clientY] : null;
  }, { passive: true });
  $("viewer-frame").addEventListener("touchend", (e) => {
    if (!touch || zoomed || !e.changedTouches.length) return;
    const dx = e.changedTouches[0].clientX - touch[0];
    const dy = e.changedTouches[0].clientY - touch[1];
    touch = null;
    if (Math.abs(dx) > 60 && Math.abs(dx) > 2 * Math.abs(dy)) page.step(dx < 0 ? 1 : -1);
  }, { passive: true });

  document.addEventListener("keydown", (e) => {
    if (e.key === "z" && (e.ctrlKey || e.metaKey) && !e.altKey) { e.preventDefault(); page.undo(); return; }
    if (e.ctrlKey || e.metaKey || e.altKey || (e.target.closest && e.target.closest("input, select, button"))) return;
    const keys = {
      ArrowRight: () => page.step(1), ArrowLeft: () => page.step(-1), n: () => page.step(1), p: () => page.step(-1),
      "]": () => page.go(page.state.page + 1, "first"), "[": () => page.go(page.state.page - 1, "first"),
      k: () => decide("keep"), r: () => decide("reject"), l: () => decide("withdraw"), u: () => page.undo(),
      " ": () => toggle(), Enter: () => (viewing ? closeViewer() : openViewer()), f: () => openViewer(),
      z: () => (viewing ? zoom(null) : openViewer()), "+": () => (viewing && !zoomed ? zoom(null) : undefined),
      "-": () => (viewing && zoomed ? zoom(null) : undefined),
      Escape: () => (viewing ? closeViewer() : (page.selected.clear(), page.render(), page.bulkCount())),
    };
    const run = keys[e.key];
    if (!run) return;
    e.preventDefault();
    run();
  });

  function decide(action) {
    if (!page.focus) return page.step(0);
    zoomed = false;
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
