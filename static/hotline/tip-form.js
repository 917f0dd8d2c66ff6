// Progressive enhancement of the tip form: one step at a time, an error summary
// that leads to the step in question, a character counter, one submit per page.
// Without this script every step shows on one page and the form works the same.
(function () {
  "use strict";

  function counter(form) {
    var field = form.querySelector("textarea[data-max-length]");
    var shown = document.getElementById(field ? field.id + "_count" : "");
    if (!field || !shown) { return; }
    var limit = parseInt(field.dataset.maxLength, 10);
    var lang = document.documentElement.lang || "sv";
    var format = window.Intl ? new Intl.NumberFormat(lang) : { format: String };
    // Screen readers hear the count after a pause in typing, and only near or over the limit.
    var live = document.createElement("p");
    live.className = "visually-hidden";
    live.setAttribute("aria-live", "polite");
    shown.parentNode.appendChild(live);
    var timer = null;
    var announced = "";
    function message() {
      var length = Array.from(field.value).length;  // characters, as the server counts them
      var left = limit - length;
      var count = Math.abs(left);
      var key = left >= 0 ? "countLeft" : "countOver";
      var text = form.dataset[key + (count === 1 ? "One" : "Other")];
      return { text: text.replace("__N__", format.format(count)), over: left < 0, near: left <= limit / 10 };
    }
    function update() {
      var current = message();
      shown.textContent = current.text;
      shown.classList.toggle("char-count-over", current.over);
      field.setAttribute("aria-invalid", current.over ? "true" : field.dataset.serverInvalid || "false");
      window.clearTimeout(timer);
      timer = window.setTimeout(function () {
        if (current.near && current.text !== announced) {
          live.textContent = current.text;
          announced = current.text;
        }
      }, 1500);
    }
    field.dataset.serverInvalid = field.getAttribute("aria-invalid") || "false";
    var described = field.getAttribute("aria-describedby");
    field.setAttribute("aria-describedby", (described ? described + " " : "") + shown.id);
    shown.hidden = false;
    field.addEventListener("input", update);
    shown.textContent = message().text;
  }

  function init() {
    var form = document.getElementById("tip-form");
    if (!form) { return; }
    counter(form);
    var sent = false;
    form.addEventListener("submit", function (event) {
      // A double click sends one tip; the server refuses the second anyway.
      if (sent) { event.preventDefault(); }
      sent = true;
    });
    var summary = document.getElementById("error-summary");
    var steps = Array.prototype.slice.call(form.querySelectorAll("fieldset.step"));
    var submit = form.querySelector("button[type=submit]");
    if (steps.length < 2 || !submit) {
      if (summary) { summary.focus(); }
      return;
    }
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
    if (summary) {
      // A link in the summary opens the step that holds the field, then moves to the field.
      summary.addEventListener("click", function (event) {
        var link = event.target.closest("a[href^='#']");
        var target = link && document.getElementById(link.getAttribute("href").slice(1));
        if (!target) { return; }
        event.preventDefault();
        var index = steps.findIndex(function (step) { return step.contains(target); });
        if (index >= 0) { show(index, false); }
        target.focus();
      });
      summary.focus();
    }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
