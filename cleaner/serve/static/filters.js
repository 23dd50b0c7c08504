"use strict";
// The review page's counts (which are also the outcome filter), its rule, reason and name filters, its
// bulk actions, and the undo of the last verdicts. ``page`` is what serve.js lends; ``restart`` lays the
// files out afresh.
window.FaceCleanFilters = (page, restart, onPage) => {
  const T = window.FaceCleanTiles;
  const { el } = T;
  const $ = (id) => document.getElementById(id);
  const nf = new Intl.NumberFormat("en");

  function counts() {
    const n = new Map();
    for (const it of page.items.values()) n.set(it.outcome, (n.get(it.outcome) || 0) + 1);
    const outcomes = [...n.keys()].sort((a, b) => rankOf(a) - rankOf(b));
    const button = (value, label, count) => {
      const b = el("button", value ? T.slug(value) : "");
      b.type = "button";
      b.dataset.outcome = value;
      b.setAttribute("aria-pressed", String(page.state.outcome === value));
      b.append(el("span", null, label), el("span", "n", nf.format(count)));
      b.addEventListener("click", () => { page.state.outcome = value; restart(); counts(); });
      return b;
    };
    $("counts").replaceChildren(button("", "all files", page.items.size), ...outcomes.map((o) => button(o, o, n.get(o))));
  }

  function rankOf(outcome) {
    for (const it of page.items.values()) if (it.outcome === outcome) return it.rank;
    return 99;
  }

  function filters() {
    for (const [id, key, all] of [["rule", "rule", "all rules"], ["reason", "reason", "all reasons"]]) {
      const seen = new Map();
      for (const it of page.items.values()) seen.set(it[key] || "", (seen.get(it[key] || "") || 0) + 1);
      const select = $(id);
      select.replaceChildren(new Option(all, ""));
      for (const [v, c] of [...seen].filter(([v]) => v).sort()) select.append(new Option(v + " (" + nf.format(c) + ")", v));
      select.addEventListener("change", () => { page.state[key] = select.value; restart(); });
    }
    let typing = 0;
    $("find").addEventListener("input", (e) => {
      clearTimeout(typing);
      typing = setTimeout(() => { page.state.find = e.target.value.toLowerCase(); restart(); }, 150);
    });
    $("boxes").addEventListener("change", (e) => document.body.classList.toggle("noboxes", !e.target.checked));
    $("select-page").addEventListener("click", () => { for (const id of onPage()) page.selected.add(id); page.render(); bulkCount(); });
    for (const b of document.querySelectorAll("[data-bulk]")) {
      b.addEventListener("click", () => { const ids = [...page.selected]; page.selected.clear(); page.act(ids, b.dataset.bulk); page.render(); bulkCount(); });
    }
  }

  function bulkCount() { $("selected-n").textContent = page.selected.size ? nf.format(page.selected.size) + " selected" : ""; }

  // Undo: the last verdicts given here are withdrawn, and the rules decide those photos again. A rejected
  // photo comes back from the quarantine first (a keep, then its withdrawal), so that the rules can see it.
  const KEPT = 20; // steps remembered
  const steps = []; // newest last: [{ ids, action }]
  const undos = {
    given(ids, action) {
      steps.push({ ids, action });
      if (steps.length > KEPT) steps.shift();
      bar();
    },
    undo() {
      const last = steps.pop();
      bar();
      if (!last) return page.say("nothing to undo");
      if (last.action === "reject") page.act(last.ids, "keep", true);
      page.act(last.ids, "withdraw", true);
      page.say("undone: " + describe(last) + " \u2014 left to the rules" + (last.action === "reject" ? ", back in the folder" : ""));
    },
    size: () => steps.length,
  };

  function describe(step) {
    const one = step.ids.length === 1 && page.items.get(step.ids[0]);
    const what = one ? one.path : nf.format(step.ids.length) + " photos";
    return ({ keep: "kept ", reject: "rejected " }[step.action] || step.action + " ") + what;
  }

  function bar() {
    const last = steps[steps.length - 1];
    $("undo-bar").hidden = !last;
    if (last) $("undo-bar").querySelector(".what").textContent = describe(last);
  }
  $("undo").addEventListener("click", () => undos.undo());

  return { counts, filters, bulkCount, undos };
};
