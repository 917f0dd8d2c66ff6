// The young person's chat. Protocol: docs/chat-protocol.md.
// Only the session token and unsent messages are kept, in sessionStorage
// (gone when the tab closes); the conversation itself is replayed from the
// server on reload, and everything is wiped when the chat ends.
//
// Loaded as a module; the shared socket module is imported by the address the
// template resolved with {% static %}, so it is the hashed file in production.

const root = document.getElementById("chat");
// A promise rather than top-level await, which older phones' browsers lack.
if (root) import(root.getAttribute("data-socket-module")).then(function (socket) { start(root, socket); });

function start(root, { ChatSocket, newClientId, socketUrl }) {
  var T = JSON.parse(document.getElementById("chat-strings").textContent);
  var KEY_TOKEN = "supportline.token";
  var KEY_OUTBOX = "supportline.outbox";
  var MAX_LENGTH = parseInt(root.getAttribute("data-max-length"), 10) || 4000;

  var el = function (id) { return document.getElementById(id); };
  var intro = el("chat-intro"), room = el("chat-room"), ended = el("chat-ended");
  var log = el("log"), outbox = el("outbox"), compose = el("compose"), text = el("compose-text");
  var hint = el("compose-hint"), connection = el("connection"), typingLine = el("typing");
  var announcer = el("announce");

  var bound = false;          // the socket has started or resumed a chat
  var lastSeq = 0;            // highest seq shown
  var startChoice = null;     // the start form's answers until the server gave a session
  var wasCut = false;         // the connection broke since the chat was last bound
  var finished = false;       // ended or left: never reconnect
  var counsellorName = T.counsellor;
  var lastStatus = null;      // the chat's status in the last state frame
  var shownCounsellor = null; // the alias the young person was last told about
  var everActive = false;     // a counsellor has answered: only then the feedback question
  var lastQueueText = null;   // what the queue screen said last, to announce only changes
  var connectionTimer = null, announceTimer = null;
  var backInQueue = null;     // "Sara has left…", until said with the queue place
  var pending = loadOutbox(); // [{client_id, text, el, state}] in the order written
  var warnedText = null;
  var typingSent = 0, typingStopTimer = null, typingHideTimer = null;

  var socket = new ChatSocket({
    url: socketUrl(root.getAttribute("data-ws-path")),
    onOpen: function () {
      bound = false;
      if (startChoice && !read(KEY_TOKEN)) send({ type: "start", age_band: startChoice.age_band, topic: startChoice.topic });
      else send({ type: "resume", token: read(KEY_TOKEN), last_seq: lastSeq });
    },
    onFrame: handle,
    onStatus: function (status) {
      if (status === "open") {
        // The socket is back: say so at once, not when the chat has caught up.
        if (wasCut) showConnection(T.connected, true);
        wasCut = false;
      } else if (status === "reconnecting") {
        bound = false;
        wasCut = true;
        showConnection(T.reconnecting);
      } else if (status === "closed") {
        bound = false;
      }
    },
    onOutbox: function (entry, state) {
      var p = findPending(entry.clientId);
      if (p) setPendingState(p, state);
    },
    canSend: function () { return bound; },
    shouldReconnect: function () { return !finished && Boolean(read(KEY_TOKEN)); }
  });
  socket.watchNetwork();

  function store(key, value) {
    try {
      if (value === null) window.sessionStorage.removeItem(key);
      else window.sessionStorage.setItem(key, value);
    } catch (e) { /* private mode: the chat still works for this page */ }
  }
  function read(key) {
    try { return window.sessionStorage.getItem(key); } catch (e) { return null; }
  }
  function loadOutbox() {
    try { return JSON.parse(read(KEY_OUTBOX) || "[]"); } catch (e) { return []; }
  }
  function saveOutbox() {
    store(KEY_OUTBOX, JSON.stringify(pending.map(function (p) { return { client_id: p.client_id, text: p.text }; })));
  }
  function format(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_, name) { return values[name]; });
  }
  function findPending(clientId) {
    return pending.filter(function (p) { return p.client_id === clientId; })[0];
  }
  function send(frame) { return socket.send(frame); }

  // --- Frames from the server -----------------------------------------

  function handle(frame) {
    switch (frame.type) {
      case "session":
        store(KEY_TOKEN, frame.token);
        startChoice = null;
        showRoom();
        break;
      case "state": onState(frame); break;
      case "queue": onQueue(frame); break;
      case "message": onMessage(frame); break;
      case "typing": onTyping(frame); break;
      case "error": onError(frame); break;
    }
  }

  function onState(frame) {
    if (!bound) {
      bound = true;
      showRoom();
      socket.kick();
    }
    el("queue").hidden = frame.status !== "queued";
    var name = el("counsellor-name");
    if (frame.status === "active" && frame.counsellor) {
      everActive = true;
      counsellorName = frame.counsellor;
      name.textContent = format(T.talking_with, { name: frame.counsellor });
      name.hidden = false;
      if (shownCounsellor === null) announce(format(T.joined, { name: frame.counsellor }));
      else if (shownCounsellor !== frame.counsellor) announce(format(T.new_counsellor, { name: frame.counsellor }));
      shownCounsellor = frame.counsellor;
    } else if (frame.status === "queued") {
      name.hidden = true;
      if (lastStatus === "active" && shownCounsellor !== null) {
        // Said together with the queue place that follows at once, so neither drowns the other.
        backInQueue = format(T.back_in_queue, { name: shownCounsellor });
        announce(backInQueue);
      }
      shownCounsellor = null;
      lastQueueText = null;
    }
    lastStatus = frame.status;
    if (frame.status === "ended") {
      var reason = { counsellor_ended: T.ended_by_counsellor, blocked: T.blocked }[frame.end_reason] || "";
      finish(reason);
    }
  }

  // T holds a plural message as its forms for 1 and for 2 (supportline/views.py).
  function plural(forms, n) { return forms[n === 1 ? 0 : 1]; }

  function onQueue(frame) {
    var position = frame.position === 1
      ? T.queue_first
      : format(T.queue_position, { position: frame.position });
    var wait = T.wait_unknown;
    if (frame.soon) wait = T.wait_soon;
    else if (frame.estimated_wait_minutes) {
      wait = format(plural(T.wait_estimate, frame.estimated_wait_minutes), { minutes: frame.estimated_wait_minutes });
    }
    el("queue-position").textContent = position;
    el("queue-wait").textContent = wait;
    el("long-wait").hidden = !frame.long_wait;
    if (position + " " + wait !== lastQueueText) announce((backInQueue ? backInQueue + " " : "") + position + " " + wait);
    lastQueueText = position + " " + wait;
    backInQueue = null;
  }

  // Joining, leaving and queue changes, for screen readers (a polite live region).
  function announce(message) {
    clearTimeout(announceTimer);
    announcer.textContent = "";
    // A fresh node text after a pause, so that a repeated message is read again.
    announceTimer = setTimeout(function () { announcer.textContent = message; }, 100);
  }

  function onMessage(frame) {
    if (frame.seq <= lastSeq) return; // already shown: exactly once
    lastSeq = frame.seq;
    if (frame.sender === "visitor") removePending(frame.client_id);
    var item = document.createElement("div");
    item.className = "message from-" + frame.sender;
    item.setAttribute("data-seq", String(frame.seq));
    var who = document.createElement("span");
    who.className = "who";
    who.textContent = frame.sender === "visitor" ? T.you : (frame.sender === "counsellor" ? counsellorName : T.system);
    var body = document.createElement("p");
    body.className = "body";
    body.textContent = frame.text;
    item.appendChild(who);
    item.appendChild(body);
    if (frame.sender === "visitor") {
      var state = document.createElement("span");
      state.className = "state";
      state.textContent = T.sent;
      item.appendChild(state);
    }
    log.appendChild(item);
    if (frame.sender === "counsellor") hideTyping();
    item.scrollIntoView({ block: "nearest" });
  }

  function onTyping(frame) {
    clearTimeout(typingHideTimer);
    if (frame.active) {
      typingLine.textContent = format(T.typing, { name: counsellorName });
      typingHideTimer = setTimeout(hideTyping, 8000);
    } else {
      hideTyping();
    }
  }
  function hideTyping() { typingLine.textContent = ""; }

  function onError(frame) {
    var code = frame.code;
    if (code === "unknown_token" || code === "chat_ended" || code === "blocked") {
      finish(code === "blocked" ? T.blocked : T.chat_gone);
      return;
    }
    if (code === "closed") {
      el("start-error").textContent = T.closed;
      el("start-error").hidden = false;
      store(KEY_TOKEN, null);
      return;
    }
    var entry = findPending(frame.client_id);
    if (code === "rate_limited") {
      hint.textContent = T.slow_down; // the socket waits as long as the server asked
    } else if (entry && (code === "text_too_long" || code === "empty_text")) {
      removePending(entry.client_id);
      text.value = entry.text;
      hint.textContent = code === "text_too_long" ? T.too_long : T.empty;
    }
  }

  // --- Sending ------------------------------------------------------------

  function renderPending(p) {
    var item = document.createElement("li");
    item.className = "message from-visitor pending";
    var who = document.createElement("span");
    who.className = "who";
    who.textContent = T.you;
    var body = document.createElement("p");
    body.className = "body";
    body.textContent = p.text;
    var state = document.createElement("span");
    state.className = "state";
    item.appendChild(who);
    item.appendChild(body);
    item.appendChild(state);
    outbox.appendChild(item);
    p.el = item;
    setPendingState(p, "sending");
  }

  function setPendingState(p, state) {
    if (!p.el) return;
    p.state = state;
    p.el.setAttribute("data-state", state);
    p.el.querySelector(".state").textContent = T[state];
  }

  function removePending(clientId) {
    socket.forget(clientId);
    pending = pending.filter(function (p) {
      if (p.client_id !== clientId) return true;
      if (p.el) p.el.remove();
      return false;
    });
    saveOutbox();
  }

  var PII = [
    ["pii_personnummer", /\b(19|20)?\d{6}[-+ ]?\d{4}\b/],
    ["pii_email", /[^\s@]+@[^\s@]+\.[a-z]{2,}/i],
    ["pii_phone", /(\+46|\b0)[\s-]?\d{1,3}([\s-]?\d){5,8}\b/],
    ["pii_address", /\b[a-zåäö]+(gatan|vägen|gränd|stigen|allén|torget|backen|leden|platsen|gata|väg)\s+\d+/i]
  ];
  function looksIdentifying(value) {
    for (var i = 0; i < PII.length; i++) {
      if (PII[i][1].test(value)) return T[PII[i][0]];
    }
    return null;
  }

  compose.addEventListener("submit", function (event) {
    event.preventDefault();
    var value = text.value;
    if (!value.trim()) { hint.textContent = T.empty; text.focus(); return; }
    if (value.length > MAX_LENGTH) { hint.textContent = T.too_long; text.focus(); return; }
    var found = looksIdentifying(value);
    if (found && warnedText !== value) {
      warnedText = value;
      hint.textContent = found + " " + T.pii_hint;
      text.focus();
      return;
    }
    warnedText = null;
    hint.textContent = "";
    var p = { client_id: newClientId(), text: value };
    pending.push(p);
    saveOutbox();
    renderPending(p);
    text.value = "";
    text.focus();
    stopTyping();
    // Resent with the same client_id until acknowledged: stored once.
    socket.enqueue({ type: "message", client_id: p.client_id, text: p.text });
  });

  text.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      compose.requestSubmit();
    }
  });

  text.addEventListener("input", function () {
    if (warnedText !== null && text.value !== warnedText) { warnedText = null; hint.textContent = ""; }
    var now = Date.now();
    if (now - typingSent > 3000) {
      typingSent = now;
      send({ type: "typing", active: true });
    }
    clearTimeout(typingStopTimer);
    typingStopTimer = setTimeout(stopTyping, 4000);
  });
  function stopTyping() {
    clearTimeout(typingStopTimer);
    if (typingSent) send({ type: "typing", active: false });
    typingSent = 0;
  }

  // --- Start, end, leave --------------------------------------------------

  el("start-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var form = event.target;
    var checked = function (name) {
      var input = form.querySelector("input[name='" + name + "']:checked");
      return input ? input.value : "";
    };
    startChoice = { age_band: checked("age_band"), topic: checked("topic") };
    socket.connect();
  });

  function showRoom() {
    if (!room.hidden) return;
    intro.hidden = true;
    room.hidden = false;
    text.focus();
  }

  function showConnection(message, fade) {
    // A fade left over from an earlier reconnect must not hide a newer message.
    clearTimeout(connectionTimer);
    connection.textContent = message;
    connection.hidden = false;
    if (fade) connectionTimer = setTimeout(function () { connection.textContent = ""; }, 4000);
  }

  el("end-button").addEventListener("click", function () {
    el("end-confirm").hidden = false;
    el("end-no").focus();
  });
  el("end-no").addEventListener("click", function () {
    el("end-confirm").hidden = true;
    text.focus();
  });
  el("end-yes").addEventListener("click", function () {
    if (!send({ type: "end" })) beaconLeave();
    finish("");
  });

  // Wipes the conversation from this device and offers the feedback question.
  function finish(reason) {
    if (finished) return;
    finished = true;
    socket.stop();
    store(KEY_TOKEN, null);
    store(KEY_OUTBOX, null);
    pending = [];
    log.querySelectorAll(".message").forEach(function (node) { node.remove(); });
    outbox.textContent = "";
    text.value = "";
    intro.hidden = true;
    room.hidden = true;
    el("ended-reason").textContent = reason;
    // Someone who left the queue never had a chat to give feedback on.
    el("feedback-form").hidden = !everActive;
    ended.hidden = false;
    ended.focus();
  }

  function beaconLeave() {
    var token = read(KEY_TOKEN);
    if (!token || !navigator.sendBeacon) return;
    try {
      navigator.sendBeacon(root.getAttribute("data-leave-url"), new Blob([token], { type: "text/plain" }));
    } catch (e) { /* never block leaving */ }
  }

  // Quick exit (static/js/quick-exit.js) fires this just before it clears
  // storage and leaves: end the chat as "left" by socket and by beacon.
  window.addEventListener("ecpat:quick-exit", function () {
    send({ type: "leave" });
    beaconLeave();
    finished = true;
    socket.stop();
  });

  // Sent with fetch: a same-origin fetch carries its Origin even under the
  // site's no-referrer policy, which a plain form post does not.
  el("feedback-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var form = event.target;
    if (!form.querySelector("input[name='answer']:checked")) return;
    fetch(form.action, { method: "POST", body: new FormData(form), credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        form.hidden = true;
        el("feedback-thanks").hidden = false;
        el("feedback-thanks").focus();
      })
      .catch(function () { form.submit(); });
  });

  // A reload keeps the chat: resume from the start, the server replays it.
  if (read(KEY_TOKEN)) {
    pending.forEach(function (p) {
      renderPending(p);
      socket.enqueue({ type: "message", client_id: p.client_id, text: p.text }, "retrying");
    });
    showRoom();
    socket.connect();
  }
}
