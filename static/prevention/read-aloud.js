// "Read aloud" with the browser's own speech synthesis. Only voices that run on
// the device (voice.localService) are used: some browsers offer cloud voices
// that would send the text away. Without a local voice the button stays hidden
// and the page says so plainly, with a link to the device's own read-aloud help.
(function () {
  "use strict";
  var button = document.querySelector("[data-read-aloud]");
  var missing = document.querySelector("[data-read-aloud-missing]");
  // Voices often arrive a moment after the page loads (the "voiceschanged" event);
  // only after this long without one does the page say there is none.
  var VOICE_WAIT_MS = 1500;

  function platform() {
    var agent = (navigator.userAgent || "") + " " + (navigator.platform || "");
    if (/iPhone|iPad|iPod/.test(agent) || (/Macintosh/.test(agent) && navigator.maxTouchPoints > 1)) { return "ios"; }
    if (/Android/.test(agent)) { return "android"; }
    if (/CrOS/.test(agent)) { return "chromeos"; }
    if (/Windows/.test(agent)) { return "windows"; }
    if (/Macintosh|MacIntel/.test(agent)) { return "mac"; }
    return "";
  }

  // Shows only this device's help when the browser names a platform we know, otherwise all of them.
  function showMissing(show) {
    if (!missing) { return; }
    missing.hidden = !show;
    var mine = platform();
    var items = missing.querySelectorAll("[data-platform]");
    var known = false;
    for (var i = 0; i < items.length; i += 1) { known = known || items[i].getAttribute("data-platform") === mine; }
    for (var j = 0; j < items.length; j += 1) {
      items[j].hidden = known && items[j].getAttribute("data-platform") !== mine;
    }
  }

  if (!button) {
    return;
  }
  if (!("speechSynthesis" in window) || typeof window.SpeechSynthesisUtterance !== "function") {
    showMissing(true);
    return;
  }
  var synth = window.speechSynthesis;
  var lang = (document.documentElement.lang || "sv").toLowerCase();
  var target = document.querySelector(button.getAttribute("data-read-aloud")) || document.querySelector("main");
  var voice = null;

  function pickVoice() {
    var voices = synth.getVoices();
    for (var i = 0; i < voices.length; i += 1) {
      var candidate = voices[i];
      if (candidate.localService && candidate.lang && candidate.lang.toLowerCase().indexOf(lang) === 0) {
        return candidate;
      }
    }
    return null;
  }

  function setSpeaking(speaking) {
    button.setAttribute("aria-pressed", speaking ? "true" : "false");
    button.textContent = speaking ? button.getAttribute("data-label-stop") : button.getAttribute("data-label-start");
  }

  function refresh(final) {
    voice = pickVoice();
    button.hidden = voice === null;
    if (voice !== null) {
      showMissing(false);
    } else if (final) {
      showMissing(true);
    }
  }

  button.addEventListener("click", function () {
    if (synth.speaking) {
      synth.cancel();
      setSpeaking(false);
      return;
    }
    if (!voice) {
      return;
    }
    var utterance = new window.SpeechSynthesisUtterance(target.innerText);
    utterance.voice = voice;
    utterance.lang = voice.lang;
    utterance.rate = 0.95;
    utterance.onend = function () { setSpeaking(false); };
    utterance.onerror = function () { setSpeaking(false); };
    setSpeaking(true);
    synth.speak(utterance);
  });

  // Stop talking the moment the visitor leaves the page, quickly or not.
  window.addEventListener("ecpat:quick-exit", function () { synth.cancel(); });
  window.addEventListener("pagehide", function () { synth.cancel(); });

  refresh(synth.getVoices().length > 0);
  if (voice === null) {
    window.setTimeout(function () { refresh(true); }, VOICE_WAIT_MS);
  }
  if (typeof synth.addEventListener === "function") {
    synth.addEventListener("voiceschanged", function () { refresh(true); });
  }
})();
