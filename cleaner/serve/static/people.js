// The people view: each person (a strip of faces, how many photos, what the model thinks) and a verdict
// about them. Every name is set as text, never as HTML; actions carry the session's CSRF token.
"use strict";
(function () {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const main = document.getElementById("people");
  const status = document.getElementById("status");
  const state = { people: 0, done: 0, failed: 0 };
  const ACTIONS = [
    ["man", "a man"], ["woman", "a woman"], ["child", "a child (always review)"],
    ["keep", "keep all"], ["reject", "reject all"], ["withdraw", "no verdict"],
  ];
  const SAID = { man: "a man", woman: "a woman", child: "a child: always review", keep: "keep all", reject: "reject all" };

  async function post(url, body) {
    const response = await fetch(url, {
      method: "POST", credentials: "same-origin", cache: "no-store",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf }, body: JSON.stringify(body),
    });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) { state.failed += 1; status.textContent = answer.error || `refused (${response.status})`; return null; }
    state.done += 1;
    return answer;
  }

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function card(p) {
    const s = el("section", "person");
    s.dataset.person = String(p.id);
    s.append(el("h2", "", `person:${p.id}`));
    const strip = el("div", "strip");
    for (const f of p.faces) {
      const img = el("img");
      img.src = `/face/${f}`;
      img.alt = `a face of person:${p.id}`;
      img.dataset.face = String(f);
      img.addEventListener("click", () => img.classList.toggle("picked"));
      strip.append(img);
    }
    s.append(strip);
    const model = p.man === null ? "no gender" : `${Math.round(p.man * 100)} % man`;
    s.append(el("p", "model", `${p.photos} photo${p.photos === 1 ? "" : "s"}, ${p.nFaces} face${p.nFaces === 1 ? "" : "s"}; the model: ${model}`));
    if (p.verdict) s.append(el("p", "verdict", `this person is ${SAID[p.verdict]} (by ${p.who})`));
    const buttons = el("div", "buttons");
    for (const [action, label] of ACTIONS) {
      const b = el("button", action === p.verdict ? "chosen" : "", label);
      b.type = "button";
      b.dataset.action = action;
      b.addEventListener("click", async () => {
        if (await post("/api/person", { person: p.id, action })) await load();
      });
      buttons.append(b);
    }
    const split = el("button", "split", "take out the picked faces");
    split.type = "button";
    split.addEventListener("click", async () => {
      const faces = [...s.querySelectorAll("img.picked")].map((i) => Number(i.dataset.face));
      if (faces.length && (await post("/api/person/split", { faces }))) await load();
    });
    buttons.append(split);
    s.append(buttons);
    return s;
  }

  async function load() {
    const response = await fetch("/api/people", { credentials: "same-origin", cache: "no-store" });
    if (!response.ok) { status.textContent = `cannot list the people (${response.status})`; return; }
    const { people } = await response.json();
    main.replaceChildren(...people.map(card));
    state.people = people.length;
    if (!people.length) main.append(el("p", "", "No faces grouped yet: run the folder first (faces of photos sent to review are grouped)."));
    document.body.dataset.ready = "1";
  }

  window.faceCleanPeople = () => ({ ...state });
  load();
})();
