// The receipt's copy button. Without this script the button stays hidden and
// the code is plain text that can be selected and copied by hand.
(function () {
  "use strict";
  function init() {
    var code = document.getElementById("receipt-code");
    var button = document.getElementById("copy-receipt");
    var status = document.getElementById("copy-receipt-status");
    if (!code || !button || !status || !navigator.clipboard || !window.isSecureContext) { return; }
    button.parentNode.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(code.textContent.trim()).then(function () {
        status.textContent = button.dataset.copied;
      }, function () {
        status.textContent = button.dataset.failed;
        var range = document.createRange();
        range.selectNodeContents(code);
        var selection = window.getSelection();
        selection.removeAllRanges();
        selection.addRange(range);
      });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
