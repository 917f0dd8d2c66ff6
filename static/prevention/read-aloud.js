// "Read aloud" with the browser's own speech synthesis. Only voices that run on
// the device (voice.localService) are used: some browsers offer cloud voices
// that would send the text away, so without a local voice the button stays hidden.
(function () {
  "use strict";
  var button = document.querySelector("[data-read-aloud]");
  if (!button || !("speechSynthesis" in window) || typeof window.SpeechSynthesisUtterance !== "function") {
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

  function refresh() {
    voice = pickVoice();
    button.hidden = voice === null;
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

  refresh();
  if (typeof synth.addEventListener === "function") {
    synth.addEventListener("voiceschanged", refresh);
  }
})();
