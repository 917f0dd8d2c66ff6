// Quick exit: hide the page at once, forget what this site stored, and leave
// through /exit/ with location.replace so the page leaves no history entry.
// Also triggered by pressing Shift three times (as GOV.UK's "Exit this page")
// or Escape twice, wherever focus is. Without script the button is a link.
(function () {
  "use strict";

  var SHIFT_WINDOW_MS = 5000;
  var ESCAPE_WINDOW_MS = 1500;
  var shiftPresses = [];
  var shiftAlone = false;
  var escapePresses = [];
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

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("[data-quick-exit]");
    if (!link) return;
    event.preventDefault();
    quickExit();
  });

  // Counted everywhere, text fields included: during a chat focus is in the
  // message box. A Shift press counts when it is released without another key
  // pressed meanwhile, so typing capitals never adds up to an exit.
  document.addEventListener("keydown", function (event) {
    if (event.repeat) return;
    if (event.key === "Escape") {
      var now = Date.now();
      escapePresses = escapePresses.filter(function (t) { return now - t < ESCAPE_WINDOW_MS; });
      escapePresses.push(now);
      if (escapePresses.length >= 2) quickExit();
    } else {
      escapePresses = [];
    }
    if (event.key === "Shift") {
      shiftAlone = true;
    } else {
      shiftAlone = false;
      shiftPresses = [];
    }
  }, true);

  document.addEventListener("keyup", function (event) {
    if (event.key !== "Shift" || !shiftAlone) return;
    shiftAlone = false;
    var now = Date.now();
    shiftPresses = shiftPresses.filter(function (t) { return now - t < SHIFT_WINDOW_MS; });
    shiftPresses.push(now);
    if (shiftPresses.length >= 3) quickExit();
  }, true);

  window.ecpatQuickExit = quickExit;
})();
