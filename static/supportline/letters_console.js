// The console's Brev tab: letters over plain HTTP (fetch with the CSRF token).
// The detail pane is built when a letter opens and removed when it closes, and
// the tables are rebuilt in place, so a long shift does not grow the page.
(function () {
  "use strict";

  var root = document.getElementById("console");
  var panel = document.getElementById("letters-panel");
  if (!root || !panel) return;

  var T = JSON.parse(document.getElementById("letters-console-strings").textContent);
  var cannedElement = document.getElementById("console-canned");
  var CANNED = cannedElement ? JSON.parse(cannedElement.textContent) : [];
  var boardUrl = panel.getAttribute("data-board-url");
  var letterUrlTemplate = panel.getAttribute("data-letter-url");
  var csrf = panel.querySelector("input[name=csrfmiddlewaretoken]").value;
  var status = document.getElementById("letters-status");
  // The detail pane: built from its template when a letter opens, removed when it closes.
  var detail = null, messages, compose, text, canned, notice, escalation, reassign;
  var reassignAllowed = false;
  var current = null; // the open letter's id
  var opener = null;  // what had focus before the letter opened

  function format(t, v) { return t.replace(/%\((\w+)\)s/g, function (_, k) { return v[k]; }); }
  function letterUrl(id) { return letterUrlTemplate.replace(/0\/$/, id + "/"); }
  function el(tag, className, content) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (content !== undefined) node.textContent = content;
    return node;
  }

  // --- Tabs ---------------------------------------------------------------------

  var tabs = root.querySelectorAll("[data-console-tab]");
  function showTab(name) {
    root.classList.toggle("show-letters", name === "letters");
    Array.prototype.forEach.call(tabs, function (tab) {
      tab.setAttribute("aria-pressed", String(tab.getAttribute("data-console-tab") === name));
    });
    if (name === "letters") load();
  }
  Array.prototype.forEach.call(tabs, function (tab) {
    tab.addEventListener("click", function () { showTab(tab.getAttribute("data-console-tab")); });
  });

  // --- The board ------------------------------------------------------------------

  function waited(seconds) {
    var minutes = Math.floor(seconds / 60);
    if (minutes < 120) return format(T.waited_minutes, { n: minutes });
    var hours = Math.floor(minutes / 60);
    if (hours < 48) return format(T.waited_hours, { n: hours });
    return format(T.waited_days, { n: Math.floor(hours / 24) });
  }

  function row(letter, withCounsellor, withStatus) {
    var tr = el("tr");
    tr.appendChild(el("td", "", format(T.letter_title, { id: letter.id })));
    var wait = el("td", letter.overdue ? "overdue" : "", waited(letter.waited_seconds) + (letter.overdue ? " (" + T.overdue + ")" : ""));
    if (letter.status !== "waiting") wait.textContent = "–";
    tr.appendChild(wait);
    tr.appendChild(el("td", "", letter.age_band));
    tr.appendChild(el("td", "", letter.topic));
    if (withCounsellor) tr.appendChild(el("td", "", letter.claimed_by || ""));
    if (withStatus) tr.appendChild(el("td", "", letter.status_label));
    tr.appendChild(el("td", letter.risk ? "risk" : "", letter.risk ? T.risk : ""));
    var cell = el("td");
    var button = el("button", "button", T.open);
    button.type = "button";
    button.setAttribute("data-letter-open", String(letter.id));
    button.setAttribute("aria-label", T.open + " " + format(T.letter_title, { id: letter.id }));
    cell.appendChild(button);
    tr.appendChild(cell);
    return tr;
  }

  function fill(tableId, letters, withCounsellor, withStatus) {
    var body = document.querySelector("#" + tableId + " tbody");
    body.replaceChildren.apply(body, letters.map(function (l) { return row(l, withCounsellor, withStatus); }));
  }

  function render(board) {
    fill("letters-queue", board.queue, true, false);
    fill("letters-mine", board.mine, false, true);
    document.getElementById("letters-queue-count").textContent = String(board.queue.length);
    document.getElementById("letters-tab-count").textContent = String(board.queue.length);
    document.getElementById("letters-mine-count").textContent = String(board.mine.length);
    document.getElementById("letters-queue-empty").textContent = board.queue.length ? "" : T.empty;
    var overdueBox = document.getElementById("letters-overdue-box");
    overdueBox.hidden = !board.supervisor;
    if (board.supervisor) {
      fill("letters-overdue", board.overdue, true, false);
      document.getElementById("letters-overdue-count").textContent = String(board.overdue.length);
    }
    reassignAllowed = board.supervisor;
  }

  // Every minute while the tab is in view the lists refresh themselves, marked passive:
  // the server does not count that as activity, so an unattended console still logs out.
  var REFRESH_MS = 60000;

  function load(passive) {
    var headers = { Accept: "application/json" };
    if (passive) headers["X-Staff-Passive"] = "1";
    return fetch(boardUrl, { credentials: "same-origin", headers: headers })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      })
      .then(function (board) { status.textContent = ""; render(board); })
      .catch(function () { status.textContent = T.load_failed; });
  }

  window.setInterval(function () {
    if (root.classList.contains("show-letters") && document.visibilityState === "visible") load(true);
  }, REFRESH_MS);

  panel.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-letters-refresh]")) { load(); return; }
    var button = event.target.closest && event.target.closest("[data-letter-open]");
    if (!button) return;
    opener = button.getAttribute("data-letter-open");
    openLetter(Number(opener));
  });

  // --- One letter -------------------------------------------------------------------

  function request(method, id, body) {
    var options = { method: method, credentials: "same-origin", headers: { Accept: "application/json" } };
    if (body) {
      options.headers["Content-Type"] = "application/json";
      options.headers["X-CSRFToken"] = csrf;
      options.body = JSON.stringify(body);
    }
    return fetch(letterUrl(id), options).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) throw new Error(data.error || String(response.status));
        return data;
      });
    });
  }

  function showDetail(data, keepText) {
    var letter = data.letter;
    current = letter.id;
    detail.hidden = false;
    detail.classList.toggle("is-risk", letter.risk);
    document.getElementById("letter-title").textContent = format(T.letter_title, { id: letter.id });
    var meta = [letter.status_label, letter.age_band, letter.topic].filter(Boolean);
    meta.push(letter.claimed_by ? format(T.claimed_by, { name: letter.claimed_by }) : T.not_claimed);
    document.getElementById("letter-meta").textContent = meta.join(" · ");
    messages.replaceChildren.apply(messages, data.messages.map(function (m) {
      var li = el("li", "from-" + m.sender);
      li.appendChild(el("span", "who", (m.sender === "counsellor" ? (m.author || T.counsellor) : T.young_person) + ", " + new Date(m.created_at).toLocaleString()));
      li.appendChild(document.createTextNode(m.text));
      return li;
    }));
    compose.hidden = !data.writable;
    if (!keepText) text.value = data.draft || "";
    detail.querySelector("[data-letter-action=claim]").hidden = !data.claimable;
    detail.querySelector("[data-letter-action=close-letter]").hidden = data.closed;
    detail.querySelector("[data-letter-action=risk]").hidden = data.closed;
    escalation.hidden = !data.imminent_risk;
    Array.prototype.forEach.call(escalation.querySelectorAll("[data-letter-step]"), function (box) {
      box.checked = data.escalation_steps.indexOf(box.getAttribute("data-letter-step")) !== -1;
    });
    reassign.hidden = !(reassignAllowed && !data.closed);
  }

  function build() {
    if (detail) return;
    var template = document.getElementById("letter-detail-template");
    panel.appendChild(template.content.cloneNode(true));
    detail = document.getElementById("letter-detail");
    messages = document.getElementById("letter-messages");
    compose = document.getElementById("letter-compose");
    text = document.getElementById("letter-text");
    canned = document.getElementById("letter-canned");
    notice = document.getElementById("letter-notice");
    escalation = document.getElementById("letter-escalation");
    reassign = document.getElementById("letter-reassign");
    CANNED.forEach(function (c, i) {
      var option = el("option", "", c.title);
      option.value = String(i);
      canned.appendChild(option);
    });
    compose.addEventListener("submit", function (event) {
      event.preventDefault();
      act({ action: "send", text: text.value }, T.sent, false);
    });
    detail.addEventListener("click", onAction);
    escalation.addEventListener("change", onStep);
  }

  function openLetter(id) {
    build();
    notice.textContent = "";
    return request("GET", id).then(function (data) {
      showDetail(data, false);
      document.getElementById("letter-title").focus();
    }).catch(function (error) { notice.textContent = format(T.error, { code: error.message }); detail.hidden = false; });
  }

  function closePanel() {
    // Gone, not hidden: nothing of a closed letter stays in the page.
    current = null;
    detail.remove();
    detail = null;
    var back = opener && panel.querySelector('[data-letter-open="' + opener + '"]');
    if (back) back.focus();
  }

  function act(body, done, keepText) {
    if (current === null) return;
    request("POST", current, body).then(function (data) {
      if (detail === null || current !== data.letter.id) return; // closed meanwhile
      showDetail(data, keepText);
      notice.textContent = done;
      load();
    }).catch(function (error) { notice.textContent = format(T.error, { code: error.message }); });
  }

  function onAction(event) {
    var button = event.target.closest && event.target.closest("[data-letter-action]");
    if (!button) return;
    var action = button.getAttribute("data-letter-action");
    if (action === "close-panel") closePanel();
    else if (action === "claim") act({ action: "claim" }, T.claimed, false);
    else if (action === "draft") act({ action: "draft", text: text.value }, T.draft_saved, true);
    else if (action === "risk") act({ action: "risk" }, T.risk_marked, true);
    else if (action === "reassign") act({ action: "reassign", to: document.getElementById("letter-reassign-to").value }, T.reassigned, false);
    else if (action === "close-letter") { if (window.confirm(T.confirm_close)) act({ action: "close" }, T.closed, false); }
    else if (action === "insert-canned" && canned.value !== "") {
      var c = CANNED[Number(canned.value)];
      text.value = text.value ? text.value + "\n\n" + c.text : c.text;
      text.focus();
    }
  }

  function onStep(event) {
    var box = event.target;
    if (!box.getAttribute("data-letter-step") || !box.checked) return;
    act({ action: "step", step: box.getAttribute("data-letter-step") }, "", true);
  }

  // No polling: a request every few seconds would count as activity and keep an
  // unattended console from ever being logged out for idleness (staff.middleware).
  // The board reloads when the tab opens, after every action, and on request.
  load();
})();
