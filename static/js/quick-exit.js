// Quick exit: hide the page at once, forget what this site stored, and leave
// through /exit/ with location.replace so the page leaves no history entry.
// Also triggered by pressing Shift three times (as GOV.UK's "Exit this page"),
// except while typing in a text field. Without script the button is a link.
(function () {
  "use strict";

  var SHIFT_WINDOW_MS = 5000;
  var shiftPresses = [];
  var leaving = false;

  function exitUrl() {
    var link = document.querySelector("[data-quick-exit]");
    return link ? link.getAttribute("href") : "/exit/";
  }

  function quickExit() {
    if (leaving) return;
    leaving = true;
    document.documentElement.classList.add("is-exiting");
    document.title = "";
    // Other scripts (the chat) end their session and close their sockets.
    try {
      window.dispatchEvent(new CustomEvent("ecpat:quick-exit"));
    } catch (e) { /* never block leaving */ }
    try { window.sessionStorage.clear(); } catch (e) { /* storage may be off */ }
    try { window.localStorage.clear(); } catch (e) { /* storage may be off */ }
    window.location.replace(exitUrl());
  }

  function isTyping(target) {
    if (!target || !target.tagName) return false;
    var tag = target.tagName.toLowerCase();
    if (tag === "textarea" || tag === "select" || target.isContentEditable) return true;
    if (tag !== "input") return false;
    var type = (target.getAttribute("type") || "text").toLowerCase();
    return ["button", "checkbox", "radio", "submit", "reset", "range", "color", "file"].indexOf(type) === -1;
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("[data-quick-exit]");
    if (!link) return;
    event.preventDefault();
    quickExit();
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Shift") {
      shiftPresses = [];
      return;
    }
    if (event.repeat || isTyping(event.target)) return;
    var now = Date.now();
    shiftPresses = shiftPresses.filter(function (t) { return now - t < SHIFT_WINDOW_MS; });
    shiftPresses.push(now);
    if (shiftPresses.length >= 3) quickExit();
  });

  window.ecpatQuickExit = quickExit;
})();
