// The counsellor console. Protocol: docs/chat-protocol.md.
// A module: the shared socket is imported by the address the template resolved
// with {% static %}, so it is the hashed file in production.

const root = document.getElementById("console");
// A promise rather than top-level await, as in chat.js.
if (root) import(root.getAttribute("data-socket-module")).then(function (socket) { start(root, socket); });

function start(root, { ChatSocket, newClientId, socketUrl }) {
  var T = JSON.parse(document.getElementById("console-strings").textContent);
  var CANNED = JSON.parse(document.getElementById("console-canned").textContent);
  var chatsBox = document.getElementById("chats");
  var template = document.getElementById("chat-template");
  var connection = document.getElementById("console-connection");
  var alertBox = document.getElementById("console-alert");
  var baseTitle = document.title;

  var panels = {};        // conversation id -> panel state
  // Chats whose panel the counsellor closed: opened again only when they ask.
  var dismissed = {};
  // Chats this console asked to open (claim, open, monitor, take over): only
  // these get a panel, so a late frame cannot bring back a closed one.
  var wanted = {};
  var lastMine = [];      // my chats in the last dashboard
  var knownQueue = null;  // ids seen in the queue, to notice new chats
  var unseen = 0;
  var audio = null;

  function format(t, v) { return t.replace(/%\((\w+)\)s/g, function (_, k) { return v[k]; }); }

  // --- Socket ---------------------------------------------------------------

  var socket = new ChatSocket({
    url: socketUrl(root.getAttribute("data-ws-path")),
    onOpen: function () {
      connection.textContent = "";
      Object.keys(panels).forEach(function (id) {
        panels[id].opened = false; // until the server confirms with a chat frame
        send({ type: "open", conversation_id: Number(id), last_seq: panels[id].lastSeq });
      });
    },
    onFrame: handle,
    onStatus: function (status) {
      // The staff session expired: reconnecting would only be refused.
      if (status === "logged_out") connection.textContent = T.logged_out;
      else if (status === "access_revoked") connection.textContent = T.access_revoked;
      else if (status === "reconnecting") connection.textContent = T.reconnecting;
    },
    onOutbox: function (entry, state) {
      var panel = panels[entry.frame.conversation_id];
      var p = panel && panel.pending[entry.clientId];
      if (p) p.el.querySelector(".state").textContent = T[state];
    },
    // The server takes a message only for a chat opened on this socket.
    canSend: function (entry) {
      var panel = panels[entry.frame.conversation_id];
      return Boolean(panel && panel.opened);
    },
    shouldReconnect: function () { return true; }
  });
  function send(frame) { return socket.send(frame); }
  socket.watchNetwork();

  // --- Alerts: a short tone and a title change, never message text -----------

  function tone() {
    try {
      var Ctx = window.AudioContext || window.webkitAudioContext;
      if (!Ctx) return;
      audio = audio || new Ctx();
      var osc = audio.createOscillator(), gain = audio.createGain();
      osc.type = "sine";
      osc.frequency.value = 880;
      gain.gain.setValueAtTime(0.0001, audio.currentTime);
      gain.gain.exponentialRampToValueAtTime(0.3, audio.currentTime + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, audio.currentTime + 0.4);
      osc.connect(gain);
      gain.connect(audio.destination);
      osc.start();
      osc.stop(audio.currentTime + 0.45);
    } catch (e) { /* sound is a courtesy */ }
  }
  // Browsers allow sound only after a gesture: unlock it on the first one.
  document.addEventListener("click", function () {
    if (audio && audio.state === "suspended") audio.resume();
  });
  function alertTitle() {
    if (document.hasFocus()) return;
    unseen += 1;
    document.title = "(" + unseen + ") " + T.new_chat_title + " – " + baseTitle;
  }
  window.addEventListener("focus", function () { unseen = 0; document.title = baseTitle; });

  // --- Frames ------------------------------------------------------------------

  function handle(frame) {
    switch (frame.type) {
      case "dashboard": onDashboard(frame); break;
      case "alert":
        tone();
        if (frame.kind === "risk") alertBox.textContent = format(T.risk_alert, { id: frame.conversation_id });
        else alertTitle();
        break;
      case "chat": onChat(frame); break;
      case "message": onMessage(frame); break;
      case "typing": onTyping(frame); break;
      case "closed": onClosed(frame); break;
      case "classified": notice(frame.conversation_id, T.classified); removePanelLater(frame.conversation_id); break;
      case "transcript_deleted": notice(frame.conversation_id, T.transcript_deleted); break;
      case "blocked": notice(frame.conversation_id, T.blocked); break;
      case "error":
        if (frame.conversation_id) notice(frame.conversation_id, format(T.error, { code: frame.code }));
        else alertBox.textContent = format(T.error, { code: frame.code });
        break;
    }
  }

  function cell(row, content) {
    var td = document.createElement("td");
    if (content instanceof Node) td.appendChild(content); else td.textContent = content;
    row.appendChild(td);
    return td;
  }
  function actionButton(label, onClick) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "button";
    b.textContent = label;
    b.addEventListener("click", onClick);
    return b;
  }

  function onDashboard(d) {
    var tbody = document.querySelector("#queue-table tbody");
    tbody.textContent = "";
    var ids = [];
    d.queue.forEach(function (c) {
      ids.push(c.id);
      var row = document.createElement("tr");
      cell(row, format(T.chat_title, { id: c.id }));
      var waited = cell(row, format(T.waited, { minutes: Math.floor(c.waited_seconds / 60) }));
      waited.setAttribute("data-since", String(Date.now() - c.waited_seconds * 1000));
      cell(row, c.age_band || "–");
      cell(row, c.topic || "–");
      var risk = cell(row, c.risk ? T.risk : "");
      if (c.risk) risk.className = "risk";
      cell(row, actionButton(T.claim, function () { want(c.id); send({ type: "claim", conversation_id: c.id }); }));
      tbody.appendChild(row);
    });
    if (knownQueue !== null && ids.some(function (id) { return knownQueue.indexOf(id) === -1; })) alertTitle();
    knownQueue = ids;
    // The dashboard lists the front of the queue; queue_total counts everyone waiting.
    var total = typeof d.queue_total === "number" ? d.queue_total : d.queue.length;
    document.getElementById("queue-count").textContent = String(total);
    document.getElementById("queue-empty").textContent = !total ? T.queue_empty :
      total > d.queue.length ? format(T.queue_more, { shown: d.queue.length, more: total - d.queue.length }) : "";
    document.getElementById("mine-count").textContent = String(d.mine.filter(function (c) { return c.status === "active"; }).length);
    document.getElementById("mine-cap").textContent = String(d.cap);
    lastMine = d.mine;
    var stillMine = {};
    d.mine.forEach(function (c) {
      stillMine[c.id] = true;
      if (!dismissed[c.id] && !panels[c.id] && !wanted[c.id]) openChat(c.id);
    });
    // What is no longer mine cannot come back: forget it, so nothing grows over a shift.
    Object.keys(dismissed).forEach(function (id) { if (!stillMine[id]) delete dismissed[id]; });
    renderClosed();
    var live = document.getElementById("live-section");
    live.hidden = !d.supervisor;
    var liveBody = document.querySelector("#live-table tbody");
    liveBody.textContent = "";
    d.live.forEach(function (c) {
      var row = document.createElement("tr");
      cell(row, format(T.chat_title, { id: c.id }));
      cell(row, c.counsellor || "–");
      cell(row, c.topic || "–");
      var risk = cell(row, c.risk ? T.risk : "");
      if (c.risk) risk.className = "risk";
      var actions = document.createElement("span");
      actions.appendChild(actionButton(T.monitor, function () { openChat(c.id); }));
      actions.appendChild(document.createTextNode(" "));
      actions.appendChild(actionButton(T.take_over, function () { want(c.id); send({ type: "take_over", conversation_id: c.id }); }));
      cell(row, actions);
      liveBody.appendChild(row);
    });
  }

  // My chats whose panel I closed (ended, not yet classified), each with a way back.
  function renderClosed() {
    var closedList = document.getElementById("mine-closed");
    closedList.textContent = "";
    lastMine.forEach(function (c) {
      if (!dismissed[c.id]) return;
      var item = document.createElement("li");
      item.appendChild(document.createTextNode(format(T.chat_title, { id: c.id }) + " – " + statusText(c.status, c.end_reason) + " "));
      item.appendChild(actionButton(T.reopen, function () { openChat(c.id); }));
      closedList.appendChild(item);
    });
    document.getElementById("mine-closed-box").hidden = !closedList.children.length;
  }

  function want(id) {
    delete dismissed[id];
    wanted[id] = true;
  }
  function openChat(id) {
    want(id);
    send({ type: "open", conversation_id: id, last_seq: 0 });
    renderClosed();
  }
  function statusText(status, endReason) {
    return (status === "ended" && T["end_" + endReason]) || T["status_" + status];
  }

  function part(panel, role) { return panel.el.querySelector("[data-role='" + role + "']"); }
  function field(panel, id) { return panel.el.querySelector("[data-id='" + id + "']"); }

  function createPanel(id) {
    var node = template.content.firstElementChild.cloneNode(true);
    node.id = "chat-" + id;
    // Unique ids so each label names its own control.
    node.querySelectorAll("[data-id]").forEach(function (input) { input.id = "c" + id + "-" + input.getAttribute("data-id"); });
    node.querySelectorAll("[data-for]").forEach(function (label) { label.htmlFor = "c" + id + "-" + label.getAttribute("data-for"); });
    var log = node.querySelector("[data-role='log']");
    log.setAttribute("aria-label", format(T.chat_title, { id: id }));
    var panel = { id: id, el: node, lastSeq: 0, opened: false, pending: {} };
    var select = field(panel, "canned");
    CANNED.forEach(function (c, i) {
      var option = document.createElement("option");
      option.value = String(i);
      option.textContent = c.title;
      select.appendChild(option);
    });
    wirePanel(panel);
    chatsBox.appendChild(node);
    panels[id] = panel;
    return panel;
  }

  function wirePanel(panel) {
    var id = panel.id, text = field(panel, "text"), typingAt = 0;
    part(panel, "compose").addEventListener("submit", function (event) {
      event.preventDefault();
      if (!text.value.trim()) return;
      var p = { client_id: newClientId(), text: text.value };
      panel.pending[p.client_id] = p;
      renderPending(panel, p);
      text.value = "";
      text.focus();
      typingAt = 0;
      send({ type: "typing", conversation_id: id, active: false });
      // Resent with the same client_id until acknowledged: stored once.
      socket.enqueue({ type: "message", conversation_id: id, client_id: p.client_id, text: p.text });
    });
    text.addEventListener("input", function () {
      var now = Date.now();
      if (now - typingAt > 3000) { typingAt = now; send({ type: "typing", conversation_id: id, active: true }); }
    });
    text.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        part(panel, "compose").requestSubmit();
      }
    });
    panel.el.addEventListener("click", function (event) {
      var action = event.target.getAttribute && event.target.getAttribute("data-action");
      if (!action) return;
      if (action === "insert-canned") {
        var chosen = CANNED[Number(field(panel, "canned").value)];
        if (field(panel, "canned").value !== "" && chosen) { text.value = chosen.text; text.focus(); }
      } else if (action === "end") {
        if (window.confirm(T.confirm_end)) send({ type: "end", conversation_id: id });
      } else if (action === "risk") {
        send({ type: "risk", conversation_id: id });
        part(panel, "escalation").hidden = false;
      } else if (action === "transfer") {
        var to = field(panel, "transfer-to").value;
        send({ type: "transfer", conversation_id: id, to: to ? Number(to) : null, note: field(panel, "transfer-note").value });
      } else if (action === "block") {
        send({
          type: "block", conversation_id: id,
          reason: field(panel, "block-reason").value, hours: parseInt(field(panel, "block-hours").value, 10)
        });
      } else if (action === "take-over") {
        send({ type: "take_over", conversation_id: id });
      } else if (action === "delete-transcript") {
        if (window.confirm(T.confirm_delete)) send({ type: "delete_transcript", conversation_id: id });
      } else if (action === "close") {
        send({ type: "close", conversation_id: id });
        dismissed[id] = true;
        removePanel(id);
        renderClosed();
      }
    });
    part(panel, "escalation").addEventListener("change", function (event) {
      if (event.target.checked) send({ type: "escalation", conversation_id: id, step: event.target.getAttribute("data-step") });
    });
    part(panel, "classify").addEventListener("submit", function (event) {
      event.preventDefault();
      var categories = Array.prototype.map.call(
        part(panel, "classify").querySelectorAll("input[name='category']:checked"), function (i) { return i.value; });
      send({ type: "classify", conversation_id: id, categories: categories, outcome: field(panel, "outcome").value });
    });
  }

  function onChat(frame) {
    var c = frame.conversation;
    if (!panels[c.id] && !wanted[c.id]) return; // closed here meanwhile
    delete wanted[c.id];
    var panel = panels[c.id] || createPanel(c.id);
    panel.monitoring = frame.monitoring;
    part(panel, "title").textContent = format(T.chat_title, { id: c.id }) + (c.topic ? " – " + c.topic : "");
    var meta = [statusText(c.status, frame.end_reason)];
    if (c.age_band) meta.push(c.age_band);
    if (!c.visitor_connected && c.status !== "ended") meta.push(T.offline);
    part(panel, "meta").textContent = meta.join(" · ");
    panel.el.classList.toggle("is-risk", c.risk);
    part(panel, "monitoring").hidden = !frame.monitoring;
    part(panel, "compose").hidden = !frame.writable;
    var ended = c.status === "ended";
    part(panel, "actions").querySelector("[data-action='end']").hidden = ended || (!frame.writable && !frame.monitoring);
    part(panel, "actions").querySelector("[data-action='risk']").hidden = ended || frame.monitoring;
    part(panel, "actions").querySelector("[data-action='take-over']").hidden = ended || !frame.monitoring;
    part(panel, "transfer").hidden = ended || frame.monitoring;
    part(panel, "block").hidden = ended || frame.monitoring;
    part(panel, "escalation").hidden = !(c.risk && !frame.monitoring && !ended);
    (c.escalation_steps || []).forEach(function (step) {
      var box = panel.el.querySelector("[data-step='" + step + "']");
      if (box) box.checked = true;
    });
    part(panel, "classify").hidden = !(ended && !frame.classified && !frame.monitoring);
    var notes = part(panel, "notes");
    notes.textContent = "";
    frame.notes.forEach(function (n) {
      var p = document.createElement("p");
      p.textContent = n.author + ": " + n.text;
      notes.appendChild(p);
    });
    notes.hidden = !frame.notes.length;
    panel.opened = true;
    socket.kick();
  }

  function onMessage(frame) {
    var panel = panels[frame.conversation_id];
    if (!panel || frame.seq <= panel.lastSeq) return;
    panel.lastSeq = frame.seq;
    var own = frame.sender === "counsellor" && panel.pending[frame.client_id];
    if (own) {
      own.el.remove();
      delete panel.pending[frame.client_id];
      socket.forget(frame.client_id);
    }
    var item = document.createElement("div");
    item.className = "chat-msg from-" + frame.sender;
    item.setAttribute("data-seq", String(frame.seq));
    var who = document.createElement("span");
    who.className = "who";
    who.textContent = frame.sender === "visitor" ? T.visitor : T.counsellor;
    var body = document.createElement("p");
    body.className = "body";
    body.textContent = frame.text;
    item.appendChild(who);
    item.appendChild(body);
    part(panel, "log").appendChild(item);
    if (frame.sender === "visitor") part(panel, "typing").textContent = "";
    item.scrollIntoView({ block: "nearest" });
  }

  function renderPending(panel, p) {
    var item = document.createElement("li");
    item.className = "chat-msg from-counsellor";
    var body = document.createElement("p");
    body.className = "body";
    body.textContent = p.text;
    var state = document.createElement("span");
    state.className = "state";
    state.textContent = T.sending;
    item.appendChild(body);
    item.appendChild(state);
    part(panel, "outbox").appendChild(item);
    p.el = item;
  }

  function onTyping(frame) {
    var panel = panels[frame.conversation_id];
    if (panel) part(panel, "typing").textContent = frame.active ? T.typing : "";
  }

  function onClosed(frame) {
    notice(frame.conversation_id, T.closed);
    removePanelLater(frame.conversation_id);
  }
  function notice(id, message) {
    var panel = panels[id];
    if (panel) part(panel, "notice").textContent = message;
  }
  function removePanel(id) {
    delete wanted[id];
    var panel = panels[id];
    if (!panel) return;
    panel.el.remove();
    delete panels[id];
    socket.forgetWhere(function (entry) { return String(entry.frame.conversation_id) === String(id); });
  }
  function removePanelLater(id) {
    setTimeout(function () {
      send({ type: "close", conversation_id: Number(id) });
      removePanel(id);
    }, 4000);
  }

  // The wait keeps counting between dashboard updates.
  setInterval(function () {
    document.querySelectorAll("#queue-table [data-since]").forEach(function (td) {
      var minutes = Math.floor((Date.now() - Number(td.getAttribute("data-since"))) / 60000);
      td.textContent = format(T.waited, { minutes: minutes });
    });
  }, 30000);

  socket.connect();
}
