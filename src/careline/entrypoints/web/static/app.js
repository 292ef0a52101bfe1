// Careline agent desktop: live updates (server-sent events), offer pop-ups, the reply counter, shortcuts.
// Everything shown comes from the server already escaped; this script never builds HTML from social content.
"use strict";
(function () {
  const body = document.body;
  const me = body.dataset.me;
  const csrf = body.dataset.csrf;
  if (!me) return; // the sign-in page
  const desk = body.dataset.desk === "1"; // takes work: offers and capacity (the social team takes none)

  // -- live updates ---------------------------------------------------------------------------------------
  // A burst of events (a busy hour) refreshes at most every 1.5 s, and only what changed is replaced, so that
  // the row under the mouse stays put while nothing about it changed.
  let refreshTimer = null;
  let lastRefresh = 0;
  function scheduleRefresh() {
    if (refreshTimer) return;
    const wait = Math.max(300, 1500 - (Date.now() - lastRefresh));
    refreshTimer = setTimeout(() => { refreshTimer = null; lastRefresh = Date.now(); refreshInbox(); }, wait);
  }
  function replace(element, html) {
    if (element.dataset.html !== html) { element.innerHTML = html; element.dataset.html = html; }
  }
  let presenceTimer = null;
  function schedulePresence() {
    if (presenceTimer) return;
    presenceTimer = setTimeout(() => { presenceTimer = null; loadPresence(); }, 500);
  }
  async function refreshInbox() {
    const fragment = document.querySelector("[data-live-fragment]");
    if (fragment) { // a live panel (the supervisor's dashboard): re-read, rendered and escaped by the server
      const answer = await fetch(fragment.dataset.liveFragment, { headers: { Accept: "application/json" } });
      if (answer.ok) replace(fragment, (await answer.json()).html);
      return;
    }
    const inbox = document.querySelector(".inbox");
    if (!inbox) return;
    const params = new URLSearchParams(window.location.search);
    params.set("view", inbox.dataset.view);
    const answer = await fetch("/inbox/fragment?" + params.toString(), { headers: { Accept: "application/json" } });
    if (!answer.ok) return;
    const data = await answer.json();
    replace(document.getElementById("rows"), data.rows); // rendered and escaped by the server
    document.getElementById("total").textContent = String(data.total);
    document.querySelectorAll("[data-count]").forEach((el) => {
      el.textContent = String(data.counts[el.dataset.count] || 0);
    });
  }
  const source = new EventSource("/live");
  source.addEventListener("change", (event) => {
    let change;
    try { change = JSON.parse(event.data); } catch (_) { return; }
    scheduleRefresh();
    if (change.agent_id === me || (change.type || "").startsWith("conversation.")) schedulePresence();
    if (change.type && change.type.startsWith("routing.offer") && change.agent_id === me) loadOffers();
    if (change.type === "note.mentioned" && Array.isArray(change.agent_ids) && change.agent_ids.includes(me)) {
      const box = document.getElementById("offers");
      const el = document.createElement("div");
      el.className = "offer mention"; el.setAttribute("role", "status");
      const link = document.createElement("a");
      link.href = "/conversations/" + encodeURIComponent(change.conversation_id);
      link.textContent = "You were mentioned in a note: open it";
      const close = document.createElement("button"); close.type = "button"; close.textContent = "Dismiss";
      close.addEventListener("click", () => el.remove());
      el.append(link, document.createTextNode(" "), close);
      box.appendChild(el);
    }
    if ((change.type === "call.ringing" || change.type === "call.answered") && change.agent_id === me && change.call_id) {
      showCall(change.call_id);
    }
    const open = document.querySelector(".conversation");
    if (open && change.conversation_id === open.dataset.conversation && change.type === "message.received") {
      const note = document.getElementById("fresh") || document.createElement("p");
      note.id = "fresh"; note.className = "error"; note.setAttribute("role", "status");
      note.textContent = "New messages arrived: reload to see them.";
      open.querySelector(".thread-pane").prepend(note);
    }
  });

  // -- my presence: the capacity I use per channel -----------------------------------------------------------
  async function loadPresence() {
    const box = document.getElementById("capacity");
    if (!box || !desk) return;
    const answer = await fetch("/me/presence", { headers: { Accept: "application/json" } });
    if (!answer.ok) return;
    const p = await answer.json();
    const held = Object.entries(p.load).filter(([, n]) => n > 0).map(([channel, n]) => channel + " " + n);
    box.textContent = p.used_units + "/" + p.units + " units" + (held.length ? " (" + held.join(", ") + ")" : "") +
      (p.wrap_ups ? " · wrap-up" : "");
  }
  loadPresence();

  // -- the screen pop: the caller and their open conversations, when the phone rings at me ---------------------
  const calls = new Set(); // ringing, then answered: one pop per call, even when both arrive at once
  async function showCall(callId) {
    if (calls.has(callId)) return;
    calls.add(callId);
    const box = document.getElementById("offers");
    const answer = await fetch("/calls/" + encodeURIComponent(callId) + "/pop");
    if (!answer.ok) { calls.delete(callId); return; }
    // The server renders the fragment with autoescaping: the caller's name and messages arrive as text.
    const holder = document.createElement("div");
    holder.innerHTML = await answer.text();
    const pop = holder.firstElementChild;
    if (!pop) return;
    pop.querySelector(".dismiss").addEventListener("click", () => pop.remove());
    box.appendChild(pop);
  }

  // -- offers -----------------------------------------------------------------------------------------------
  const shown = new Map();
  function post(path) {
    const form = document.createElement("form");
    form.method = "post"; form.action = path;
    const input = document.createElement("input");
    input.type = "hidden"; input.name = "csrf_token"; input.value = csrf;
    form.appendChild(input); document.body.appendChild(form); form.submit();
  }
  async function loadOffers() {
    if (!desk) return;
    const answer = await fetch("/offers", { headers: { Accept: "application/json" } });
    if (!answer.ok) return;
    const offers = await answer.json();
    const box = document.getElementById("offers");
    const live = new Set(offers.map((o) => o.id));
    for (const [id, el] of shown) if (!live.has(id)) { el.remove(); shown.delete(id); }
    for (const offer of offers) {
      if (shown.has(offer.id)) continue;
      const el = document.createElement("div");
      el.className = "offer"; el.setAttribute("role", "alertdialog"); el.setAttribute("aria-label", "New offer");
      const title = document.createElement("strong"); title.textContent = "New conversation ";
      const link = document.createElement("a"); link.href = "/conversations/" + encodeURIComponent(offer.conversation_id);
      link.textContent = "open";
      const countdown = document.createElement("span"); countdown.className = "countdown";
      const accept = document.createElement("button"); accept.type = "button"; accept.textContent = "Accept";
      accept.addEventListener("click", () => post("/offers/" + encodeURIComponent(offer.id) + "/accept"));
      const reject = document.createElement("button"); reject.type = "button"; reject.textContent = "Reject";
      reject.addEventListener("click", () => post("/offers/" + encodeURIComponent(offer.id) + "/reject"));
      const line = document.createElement("p");
      line.append(title, link, document.createTextNode(" · "), countdown);
      el.append(line, accept, document.createTextNode(" "), reject);
      box.appendChild(el); shown.set(offer.id, el);
      const expires = new Date(offer.expires_at).getTime();
      const tick = () => {
        const left = Math.max(0, Math.round((expires - Date.now()) / 1000));
        countdown.textContent = left + " s to answer";
        if (left > 0 && shown.has(offer.id)) setTimeout(tick, 1000); else if (left === 0) loadOffers();
      };
      tick();
    }
  }
  loadOffers();

  // -- composer ---------------------------------------------------------------------------------------------
  const text = document.getElementById("reply-text");
  if (text) {
    const left = document.getElementById("reply-left");
    const counter = left.parentElement;
    let limit = Number(counter.dataset.limit);
    document.querySelectorAll('input[name="visibility"]').forEach((radio) => {
      radio.addEventListener("change", () => { limit = Number(radio.dataset.limit); update(); });
    });
    const update = () => {
      const remaining = limit - text.value.length;
      left.textContent = String(remaining);
      counter.classList.toggle("over", remaining < 0);
    };
    text.addEventListener("input", update); update();
    const canned = document.getElementById("canned-pick");
    if (canned) canned.addEventListener("change", () => {
      const option = canned.selectedOptions[0];
      if (!option || !option.dataset.text) return;
      text.value = text.value ? text.value + "\n" + option.dataset.text : option.dataset.text; // plain text
      canned.value = ""; update(); text.focus();
    });
    text.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) document.getElementById("reply-form").requestSubmit();
    });
  }

  // -- shortcuts: g i (inbox), j / k (next / previous row), o or Enter (open), a (take it), r (resolve) -----
  let pendingG = false;
  document.addEventListener("keydown", (event) => {
    const target = event.target;
    if (target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (pendingG && event.key === "i") { window.location.href = "/inbox"; return; }
    pendingG = event.key === "g";
    const rows = Array.from(document.querySelectorAll("#rows tr"));
    const current = rows.findIndex((row) => row.classList.contains("selected"));
    if (event.key === "j" || event.key === "k") {
      const next = Math.min(rows.length - 1, Math.max(0, current + (event.key === "j" ? 1 : -1)));
      rows.forEach((row) => row.classList.remove("selected"));
      if (rows[next]) { rows[next].classList.add("selected"); rows[next].querySelector("a").focus(); }
    } else if ((event.key === "o" || event.key === "Enter") && current >= 0) {
      window.location.href = rows[current].querySelector("a").href;
    } else {
      const button = document.querySelector('button[data-key="' + CSS.escape(event.key) + '"]');
      if (button) button.click();
    }
  });
})();
