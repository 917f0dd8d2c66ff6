// Progressive enhancement of the tip form: one step at a time.
// Without this script every step shows on one page and the form works the same.
(function () {
  "use strict";
  function init() {
    var form = document.getElementById("tip-form");
    if (!form) { return; }
    var steps = Array.prototype.slice.call(form.querySelectorAll("fieldset.step"));
    var submit = form.querySelector("button[type=submit]");
    if (steps.length < 2 || !submit) { return; }
    var current = 0;
    steps.forEach(function (step, index) {
      if (step.querySelector(".errorlist") && current === 0 && !steps[0].querySelector(".errorlist")) {
        current = index;
      }
    });
    function show(index, moveFocus) {
      current = index;
      steps.forEach(function (step, i) { step.hidden = i !== index; });
      submit.hidden = index !== steps.length - 1;
      if (moveFocus) {
        var first = steps[index].querySelector("input:not([type=hidden]), textarea");
        if (first) { first.focus(); }
      }
    }
    steps.forEach(function (step, index) {
      var nav = document.createElement("div");
      nav.className = "step-nav";
      if (index > 0) {
        var back = document.createElement("button");
        back.type = "button";
        back.className = "button button-secondary";
        back.textContent = form.dataset.backLabel;
        back.addEventListener("click", function () { show(index - 1, true); });
        nav.appendChild(back);
      }
      if (index < steps.length - 1) {
        var next = document.createElement("button");
        next.type = "button";
        next.className = "button";
        next.textContent = form.dataset.nextLabel;
        next.addEventListener("click", function () { show(index + 1, true); });
        nav.appendChild(next);
      }
      step.appendChild(nav);
    });
    form.classList.add("js-steps");
    show(current, false);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
