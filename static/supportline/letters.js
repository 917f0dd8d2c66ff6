// Letters: the PII nudge before sending (as in the chat) and the copy button
// for a new letter code. Without script the forms post as they are.
(function () {
  "use strict";

  var stringsElement = document.getElementById("letter-strings");
  var T = stringsElement ? JSON.parse(stringsElement.textContent) : {};

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

  Array.prototype.forEach.call(document.querySelectorAll("[data-letter-form]"), function (form) {
    var text = form.querySelector("[data-letter-text]");
    var hint = form.querySelector("[data-letter-hint]");
    var warnedText = null;
    if (!text || !hint) return;
    text.setAttribute("aria-describedby", ((text.getAttribute("aria-describedby") || "") + " " + hintId(hint)).trim());
    form.addEventListener("submit", function (event) {
      var value = text.value;
      var found = looksIdentifying(value);
      if (found && warnedText !== value) {
        event.preventDefault();
        warnedText = value;
        hint.textContent = found + " " + T.pii_hint;
        text.focus();
        return;
      }
      // A second click on Send while the form posts must not send it twice.
      Array.prototype.forEach.call(form.querySelectorAll("button[type=submit]"), function (button) {
        window.setTimeout(function () { button.disabled = true; }, 0);
      });
    });
  });

  function hintId(hint) {
    if (!hint.id) hint.id = "letter-hint-" + Math.random().toString(36).slice(2);
    return hint.id;
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-copy-code]"), function (button) {
    var code = document.getElementById(button.getAttribute("data-copy-code"));
    var status = document.getElementById("copy-status");
    if (!code || !navigator.clipboard) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(code.textContent.trim()).then(
        function () { status.textContent = T.copied; },
        function () { status.textContent = T.copy_failed; }
      );
    });
  });
})();
