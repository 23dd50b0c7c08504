"use strict";
// One tile per file, with its face boxes: shared by the HTML report (inlined into its one script) and
// the review page of `face-clean serve` (served as a file). Every string from the audit log goes in as
// text (textContent, title, alt), never as markup.
window.FaceCleanTiles = (() => {
  const KNOWN = ["review", "failed move", "quarantined", "unreadable", "error", "skipped", "restored", "kept"];

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  const slug = (o) => "o-" + (KNOWN.includes(o) ? o.replace(/ /g, "-") : "other");
  // a probability as a person reads it: 0.9994 is "99.9%", never a "100%" that a rule found unsure
  const pct = (p) => (p === null || p === undefined ? "" : " " +
    (p < 1 && p >= 0.995 ? Math.floor(p * 1000) / 10 : Math.round(p * 100)) + "%");

  // A face's box over a picture of the whole photo, in % of it; ``frameWidth`` (px) places its label.
  function box(f, it, frameWidth) {
    const b = el("div", "box g-" + (f.gender === "Man" || f.gender === "Woman" ? f.gender : "face"));
    const clamp = (v) => Math.max(0, Math.min(100, v));
    b.style.left = clamp(100 * f.x / it.width) + "%";
    b.style.top = clamp(100 * f.y / it.height) + "%";
    b.style.width = clamp(100 * f.w / it.width) + "%";
    b.style.height = clamp(100 * f.h / it.height) + "%";
    if (it.uncertain) b.classList.add("uncertain");
    if (f.y / it.height < 0.12) b.classList.add("low");
    const label = (f.gender || "face") + pct(f.p);
    // a label that would stick out of the picture on the right is aligned to the box's right edge
    if (f.x / it.width * frameWidth + label.length * 6 > frameWidth + 8) b.classList.add("right");
    b.append(el("span", "label", label));
    const details = [(f.gender || "face") + pct(f.p), "detector " + (f.det ?? "?")];
    if (f.age !== null && f.age !== undefined) details.push("age " + f.age);
    b.title = details.join(", ");
    return b;
  }

  // The picture with its boxes: ``picture`` is {src, w, h} (w, h: its size in px), "loading" or null.
  function frame(it, picture) {
    if (picture === "loading") return el("div", "frame missing loading", "loading\u2026");
    if (!picture) return el("div", "frame missing", it.note || it.error || it.status || "no picture");
    const f = el("div", "frame");
    f.style.width = picture.w + "px";
    f.style.height = picture.h + "px";
    const img = el("img");
    img.decoding = "async";
    img.width = picture.w;
    img.height = picture.h;
    img.alt = it.path;
    img.src = picture.src;
    f.append(img);
    if (it.width > 0 && it.height > 0) for (const face of it.faces) f.append(box(face, it, picture.w));
    return f;
  }

  function caption(it, picture) {
    const cap = el("figcaption");
    const name = el("div", "name", it.path);
    name.title = it.path;
    const why = el("div", "why");
    why.append(el("span", "rule", it.rule), " \u2192 " + it.action + (it.reason ? " (" + it.reason + ")" : ""));
    why.title = "rule " + it.rule + ": " + it.action + (it.reason ? ", reason " + it.reason : "");
    cap.append(name, why);
    if (it.decided_by) {
      const kept = it.outcome === "kept" || it.outcome === "restored";
      cap.append(el("div", "person", (kept ? "kept" : "rejected") + " by " + (it.who || "a person")));
    }
    if (it.status === "analysed") {
      const faces = it.faces.length ? it.faces.map((f) => (f.gender || "face") + pct(f.p)).join(", ") : "no face";
      cap.append(el("div", "faces", (it.faces.length > 1 ? it.faces.length + " faces: " : "") + faces));
    }
    if (it.at !== it.path) {
      const at = el("div", "at", (it.moved ? "now in " : "at ") + it.at);
      at.title = it.at;
      cap.append(at);
    }
    if (it.error && picture) cap.append(el("div", "problem", it.error));
    if (it.note && picture) cap.append(el("div", "problem", it.note));
    return cap;
  }

  function tile(it, picture) {
    const fig = el("figure", "tile " + slug(it.outcome));
    fig.dataset.outcome = it.outcome;
    fig.dataset.rule = it.rule;
    const well = el("div", "well");
    well.append(frame(it, picture));
    fig.append(well, caption(it, picture));
    return fig;
  }

  // A group's heading and the grid its tiles go in: [section, grid].
  function section(label, outcome, count, nf) {
    const sec = el("section", "group " + slug(outcome));
    const h = el("h2", null, label);
    h.append(el("span", "n", nf.format(count) + (count === 1 ? " file" : " files")));
    const grid = el("div", "grid");
    sec.append(h, grid);
    return [sec, grid];
  }

  return { KNOWN, el, slug, pct, box, frame, tile, section };
})();
