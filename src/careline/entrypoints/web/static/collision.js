// Careline agent desktop: collision detection (docs/web.md#collision-detection). While a conversation is open the
// page tells the server every few seconds that this person is viewing it (or typing in it), and shows who else is.
// Names are only ever inserted as text.
"use strict";
(function () {
  const page = document.querySelector(".conversation[data-conversation]");
  const csrf = document.body.dataset.csrf;
  if (!page || !csrf) return;
  const url = "/conversations/" + encodeURIComponent(page.dataset.conversation) + "/presence";
  const BEAT_MS = 3000; // the server forgets a page after 10 s without a beat
  const TYPING_MS = 3000; // "typing" while the last keystroke is this recent
  const TYPING_BEAT_MS = 1000; // at most one extra beat per second while typing
  let lastKey = 0;
  let lastTypingBeat = 0;
  let timer = null;
  let sending = false;
  let gone = false;

  function presenceBox() {
    let box = document.getElementById("presence");
    if (!box) {
      box = document.createElement("p");
      box.id = "presence"; box.className = "presence"; box.setAttribute("aria-live", "polite");
      const head = page.querySelector(".conv-head");
      if (head) head.after(box); else page.prepend(box);
    }
    return box;
  }

  function showOthers(others) {
    const box = presenceBox();
    box.replaceChildren();
    if (others.length === 0) return;
    box.append(document.createTextNode("Also here: "));
    others.forEach((other, index) => {
      if (index > 0) box.append(document.createTextNode(", "));
      const person = document.createElement("span");
      const typing = other.state === "typing";
      person.className = "presence-person " + (typing ? "typing" : "viewing");
      person.textContent = String(other.name) + (typing ? " (typing\u2026)" : " (viewing)");
      box.append(person);
    });
  }

  function showCrossing(warning) {
    let note = document.getElementById("crossed");
    if (!warning) { if (note) note.remove(); return; }
    if (!note) {
      note = document.createElement("p");
      note.id = "crossed"; note.className = "crossing"; note.setAttribute("role", "status");
      presenceBox().after(note);
    }
    note.textContent = String(warning) + " Reload to see it.";
  }

  async function beat(state) {
    if (gone || sending) return;
    sending = true;
    try {
      const answer = await fetch(url, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrf },
        body: JSON.stringify({ state: state, seen_message_id: page.dataset.lastMessage || "" }),
      });
      if (!answer.ok) return;
      const data = await answer.json();
      showOthers(Array.isArray(data.others) ? data.others : []);
      showCrossing(data.crossing);
    } catch (_) {
      // offline for a moment: the next beat tries again
    } finally {
      sending = false;
    }
  }

  function currentState() {
    return Date.now() - lastKey < TYPING_MS ? "typing" : "viewing";
  }
  function tick() {
    clearTimeout(timer);
    beat(currentState());
    timer = setTimeout(tick, BEAT_MS);
  }
  function typed() {
    lastKey = Date.now();
    if (lastKey - lastTypingBeat >= TYPING_BEAT_MS) { lastTypingBeat = lastKey; tick(); }
  }
  ["reply-text", "note-text"].forEach((id) => {
    const field = document.getElementById(id);
    if (field) field.addEventListener("input", typed);
  });

  // Leaving: a beacon cannot set headers, so the CSRF token travels as the form field.
  function leave() {
    if (gone) return;
    gone = true;
    clearTimeout(timer);
    const form = new URLSearchParams({ csrf_token: csrf });
    if (!(navigator.sendBeacon && navigator.sendBeacon(url + "/leave", form))) {
      fetch(url, { method: "DELETE", headers: { "X-CSRF-Token": csrf }, keepalive: true }).catch(() => {});
    }
  }
  window.addEventListener("pagehide", leave);
  window.addEventListener("pageshow", (event) => {
    if (event.persisted) { gone = false; tick(); } // back from the back/forward cache
  });
  tick();
})();
