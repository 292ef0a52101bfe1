/* Careline web chat widget (docs/channels.md#web-chat). A site embeds it with one tag:
 *   <script src="https://careline.example/static/widget.js" data-account="acme-chat"
 *           data-identity="<signed token, optional>" async></script>
 * It draws a launcher button and a chat panel inside its own shadow root (its styles never touch the page's),
 * talks to /api/v1/webchat/<account>/socket, and renders every message with textContent: what customers and
 * agents write is text, never markup. No dependencies, no build step. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.getAttribute("data-account")) return;
  var account = script.getAttribute("data-account");
  var identity = script.getAttribute("data-identity") || null;
  var origin = new URL(script.src, document.baseURI);
  var socketUrl = (origin.protocol === "https:" ? "wss://" : "ws://") + origin.host +
    "/api/v1/webchat/" + encodeURIComponent(account) + "/socket";
  var NO_RETRY = { 4400: true, 4401: true }; // a bad hello or a refused identity: reconnecting cannot help

  var CSS = [
    ":host{all:initial;position:fixed;right:20px;bottom:20px;z-index:2147483000;",
    "font:14px/1.4 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1f2933}",
    "button,input,textarea{font:inherit}",
    ".launcher{border:0;border-radius:24px;padding:12px 18px;background:#1d4ed8;color:#fff;cursor:pointer;",
    "box-shadow:0 2px 8px rgba(0,0,0,.25)}",
    ".launcher:focus-visible,button:focus-visible,input:focus-visible,textarea:focus-visible{",
    "outline:3px solid #f59e0b;outline-offset:2px}",
    ".panel{position:absolute;right:0;bottom:56px;width:320px;max-width:calc(100vw - 40px);height:440px;",
    "max-height:calc(100vh - 100px);display:flex;flex-direction:column;background:#fff;border-radius:10px;",
    "box-shadow:0 4px 24px rgba(0,0,0,.25);overflow:hidden}",
    ".panel[hidden]{display:none}",
    "header{display:flex;align-items:center;justify-content:space-between;padding:10px 12px;",
    "background:#1d4ed8;color:#fff}",
    "header h2{font-size:15px;margin:0}",
    ".close{border:0;background:transparent;color:#fff;font-size:20px;cursor:pointer;line-height:1}",
    ".status{margin:0;padding:6px 12px;font-size:12px;background:#eef2ff}",
    ".log{flex:1;overflow-y:auto;margin:0;padding:10px 12px;list-style:none}",
    ".log li{margin:6px 0;max-width:85%;padding:6px 10px;border-radius:10px;white-space:pre-wrap;",
    "word-wrap:break-word}",
    ".log li.visitor{margin-left:auto;background:#dbeafe}",
    ".log li.agent{margin-right:auto;background:#f3f4f6}",
    ".meta{display:block;font-size:11px;color:#52606d}",
    "form{display:flex;flex-direction:column;gap:6px;padding:8px 12px;border-top:1px solid #e5e7eb}",
    "form[hidden]{display:none}",
    "textarea,input{border:1px solid #9aa5b1;border-radius:6px;padding:6px}",
    "textarea{resize:none;height:54px}",
    "form button{align-self:flex-end;border:0;border-radius:6px;padding:6px 14px;background:#1d4ed8;",
    "color:#fff;cursor:pointer}",
    ".sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}"
  ].join("");

  var state = {
    socket: null, cursor: null, attempt: 0, stopped: false, open: false,
    shownIds: {}, byClient: {}, pending: [], unseen: [], unread: 0, online: true, offlineSent: false
  };

  function el(tag, attributes, text) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) { node.setAttribute(name, attributes[name]); });
    if (text) node.textContent = text;
    return node;
  }

  function randomId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    bytes[6] = (bytes[6] & 15) | 64;
    bytes[8] = (bytes[8] & 63) | 128;
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
    return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join("-");
  }

  function visitorId() {
    // Anonymous visitors keep one random id per site and chat account, so a reload finds their conversation.
    var key = "careline-visitor:" + account;
    var id = null;
    try { id = localStorage.getItem(key); } catch (e) { /* storage blocked: this page view only */ }
    if (!id || !/^[A-Za-z0-9_-]{16,64}$/.test(id)) {
      id = randomId().replace(/-/g, "");
      try { localStorage.setItem(key, id); } catch (e) { /* as above */ }
    }
    return id;
  }

  // -- the interface ---------------------------------------------------------------------------------------
  var host = el("div", { "data-careline-widget": account });
  var root = host.attachShadow({ mode: "open" });
  if (root.adoptedStyleSheets !== undefined && window.CSSStyleSheet && CSSStyleSheet.prototype.replaceSync) {
    var sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS); // a constructed sheet needs no 'unsafe-inline' in the site's style-src
    root.adoptedStyleSheets = [sheet];
  } else {
    root.appendChild(el("style", {}, CSS));
  }
  var panelId = "careline-chat-panel";
  var launcher = el("button", {
    type: "button", "class": "launcher", "aria-expanded": "false", "aria-controls": panelId
  }, "Chat with us");
  var panel = el("section", { id: panelId, "class": "panel", role: "dialog", "aria-label": "Chat with us" });
  panel.hidden = true;
  var header = el("header");
  header.appendChild(el("h2", {}, "Chat with us"));
  var close = el("button", { type: "button", "class": "close", "aria-label": "Close chat" }, "\u00d7");
  header.appendChild(close);
  var status = el("p", { "class": "status", role: "status" }, "Connecting\u2026");
  var log = el("ol", { "class": "log", role: "log", "aria-live": "polite", "aria-label": "Messages" });
  var compose = el("form", { "class": "compose" });
  var composeId = "careline-chat-text";
  compose.appendChild(el("label", { "for": composeId, "class": "sr" }, "Your message"));
  var text = el("textarea", { id: composeId, maxlength: "4000", placeholder: "Write a message\u2026" });
  compose.appendChild(text);
  compose.appendChild(el("button", { type: "submit" }, "Send"));
  var offline = el("form", { "class": "offline" });
  offline.hidden = true;
  offline.appendChild(el("p", {}, "No one is available right now. Leave a message and we will answer by email."));
  var fields = [["name", "Your name", "text", false], ["email", "Your email", "email", true]];
  var inputs = {};
  fields.forEach(function (f) {
    offline.appendChild(el("label", { "for": "careline-offline-" + f[0] }, f[1]));
    inputs[f[0]] = el("input", { id: "careline-offline-" + f[0], type: f[2], maxlength: "200" });
    if (f[3]) inputs[f[0]].required = true;
    offline.appendChild(inputs[f[0]]);
  });
  offline.appendChild(el("label", { "for": "careline-offline-text" }, "Your message"));
  inputs.text = el("textarea", { id: "careline-offline-text", maxlength: "4000" });
  inputs.text.required = true;
  offline.appendChild(inputs.text);
  offline.appendChild(el("button", { type: "submit" }, "Send by email"));
  [header, status, log, compose, offline].forEach(function (node) { panel.appendChild(node); });
  root.appendChild(panel);
  root.appendChild(launcher);

  function setOpen(open) {
    state.open = open;
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", String(open));
    if (open) {
      state.unread = 0;
      launcher.textContent = "Chat with us";
      (offline.hidden ? text : inputs.email).focus();
      flushSeen();
    } else {
      launcher.focus();
    }
  }
  launcher.addEventListener("click", function () { setOpen(!state.open); });
  close.addEventListener("click", function () { setOpen(false); });
  panel.addEventListener("keydown", function (event) { if (event.key === "Escape") setOpen(false); });
  text.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); compose.requestSubmit(); }
  });

  function bubble(from, author, body) {
    var item = el("li", { "class": from });
    item.appendChild(el("span", { "class": "meta" }, from === "agent" ? (author || "Agent") : "You"));
    var content = el("span", { "class": "text" });
    content.textContent = body; // text, never HTML
    item.appendChild(content);
    var note = el("span", { "class": "meta note" });
    item.appendChild(note);
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
    return item;
  }

  function note(item, words) { item.querySelector(".note").textContent = words; }

  // -- messages ----------------------------------------------------------------------------------------------
  function show(message) {
    if (typeof message.cursor === "number") state.cursor = Math.max(state.cursor || 0, message.cursor);
    if (state.shownIds[message.id]) return;
    state.shownIds[message.id] = true;
    var mine = message.client_id && state.byClient[message.client_id];
    if (mine) { note(mine, ""); return; } // this tab's own message, echoed by the server
    bubble(message.from, message.author, message.text);
    if (message.from === "agent" && message.status === "delivered") { // not yet displayed to the visitor
      state.unseen.push(message.id);
      if (!state.open) { state.unread += 1; launcher.textContent = "Chat with us (" + state.unread + " new)"; }
      flushSeen();
    }
  }

  function flushSeen() {
    if (!state.open || !connected()) return;
    state.unseen.splice(0).forEach(function (id) { send({ type: "seen", message_id: id }); });
  }

  function submit(frame, item) {
    state.byClient[frame.client_id] = item;
    state.pending.push(frame);
    note(item, "Sending\u2026");
    if (connected()) send(frame);
  }

  compose.addEventListener("submit", function (event) {
    event.preventDefault();
    var body = text.value;
    if (!body.trim()) return;
    text.value = "";
    submit({ type: "message", client_id: randomId(), text: body }, bubble("visitor", null, body));
  });

  offline.addEventListener("submit", function (event) {
    event.preventDefault();
    var frame = { type: "offline", client_id: randomId(), name: inputs.name.value, email: inputs.email.value,
      text: inputs.text.value };
    if (!frame.text.trim()) return;
    submit(frame, bubble("visitor", null, frame.text));
    state.offlineSent = true; // one message is enough: the form comes back only if this one is refused
    offline.hidden = true;
  });

  function acknowledged(frame) {
    var item = state.byClient[frame.client_id];
    state.pending = state.pending.filter(function (p) { return p.client_id !== frame.client_id; });
    if (frame.message_id) state.shownIds[frame.message_id] = true;
    if (!item) return;
    note(item, frame.offline ? "Sent. We will answer by email." : "");
  }

  function refused(frame) {
    var item = frame.client_id && state.byClient[frame.client_id];
    if (!item) { status.textContent = frame.reason; return; }
    if (frame.retry) {
      note(item, "Not sent yet: " + frame.reason);
      setTimeout(function () { resend(frame.client_id); }, 3000);
      return;
    }
    var offlineRefused = state.pending.some(function (p) {
      return p.client_id === frame.client_id && p.type === "offline";
    });
    state.pending = state.pending.filter(function (p) { return p.client_id !== frame.client_id; });
    note(item, "Not sent: " + frame.reason);
    if (offlineRefused) { state.offlineSent = false; offline.hidden = false; }
  }

  function resend(clientId) {
    state.pending.forEach(function (p) { if (p.client_id === clientId && connected()) send(p); });
  }

  function welcome(frame) {
    state.attempt = 0;
    if (state.cursor === null) state.cursor = frame.cursor;
    state.online = frame.online;
    status.textContent = frame.online ? "We are online." : (frame.offline_form
      ? "We are offline right now." : "We are offline right now; we will answer here when we are back.");
    offline.hidden = !frame.offline_form || state.offlineSent;
    compose.hidden = !!frame.offline_form;
    if (frame.identified && !inputs.name.value) inputs.name.value = frame.name || "";
    if (frame.identified && !inputs.email.value) inputs.email.value = frame.email || "";
    state.pending.forEach(send); // same client ids: whatever the server already stored is acknowledged again
    flushSeen();
  }

  function receive(event) {
    var frame;
    try { frame = JSON.parse(event.data); } catch (e) { return; }
    if (frame.type === "welcome") welcome(frame);
    else if (frame.type === "history") frame.messages.forEach(show);
    else if (frame.type === "message") show(frame.message);
    else if (frame.type === "ack") acknowledged(frame);
    else if (frame.type === "error") refused(frame);
  }

  // -- the socket --------------------------------------------------------------------------------------------
  function connected() { return state.socket && state.socket.readyState === WebSocket.OPEN; }

  function send(frame) { state.socket.send(JSON.stringify(frame)); }

  function connect() {
    var socket = new WebSocket(socketUrl);
    state.socket = socket;
    socket.addEventListener("open", function () {
      send({ type: "hello", visitor: identity ? null : visitorId(), identity: identity, after: state.cursor });
    });
    socket.addEventListener("message", receive);
    socket.addEventListener("close", function (event) {
      if (state.socket !== socket) return;
      if (NO_RETRY[event.code]) {
        state.stopped = true;
        status.textContent = "The chat is unavailable: " + (event.reason || "refused");
        return;
      }
      // Back off (1 s, 2 s, 4 s ... 30 s, with jitter) so a restarting server is not stampeded.
      var delay = Math.min(30000, 1000 * Math.pow(2, state.attempt)) * (0.5 + Math.random() / 2);
      state.attempt += 1;
      status.textContent = "Reconnecting\u2026";
      setTimeout(connect, delay);
    });
  }

  function start() {
    document.body.appendChild(host);
    connect();
  }
  if (document.body) start(); else document.addEventListener("DOMContentLoaded", start);
})();
