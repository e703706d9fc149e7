// The console's few scripts: the crisis alert (a visible banner and a short beep) and Enter-to-send.
(function () {
  "use strict";
  var audio = null;
  var seen = null;

  function beep() {
    window.consoleBeeps = (window.consoleBeeps || 0) + 1;
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      if (audio.state === "suspended") { audio.resume(); }
      var tone = audio.createOscillator();
      var gain = audio.createGain();
      tone.frequency.value = 880;
      gain.gain.setValueAtTime(0.2, audio.currentTime);
      gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.6);
      tone.connect(gain).connect(audio.destination);
      tone.start();
      tone.stop(audio.currentTime + 0.6);
    } catch (e) { /* no sound on this browser: the banner still shows */ }
  }

  // Crisis rows carry data-crisis="ID"; one not seen before on this page raises the alert.
  function checkCrises() {
    var ids = Array.prototype.map.call(document.querySelectorAll("[data-crisis]"), function (row) {
      return row.getAttribute("data-crisis");
    });
    if (seen === null) { seen = new Set(ids); return; }
    var fresh = ids.filter(function (id) { return !seen.has(id); });
    ids.forEach(function (id) { seen.add(id); });
    if (fresh.length === 0) { return; }
    var banner = document.getElementById("crisis-alert");
    if (banner) { banner.hidden = false; }
    beep();
  }

  // Browsers let a page make sound only after a click on it: any click unlocks the beep.
  document.addEventListener("click", function () {
    if (!audio) { try { audio = new (window.AudioContext || window.webkitAudioContext)(); } catch (e) {} }
    if (audio && audio.state === "suspended") { audio.resume(); }
  });

  // In a reply box, Enter sends and Shift+Enter starts a new line.
  document.addEventListener("keydown", function (event) {
    var box = event.target;
    if (event.key !== "Enter" || event.shiftKey || event.isComposing || !box.matches("textarea[data-enter-sends]")) {
      return;
    }
    event.preventDefault();
    if (box.value.trim()) { box.form.requestSubmit(); }
  });

  // A transcript opens, and stays, at its latest message.
  function showLatest() {
    var transcript = document.getElementById("transcript");
    if (transcript) { transcript.scrollTop = transcript.scrollHeight; }
  }

  document.addEventListener("DOMContentLoaded", function () { checkCrises(); showLatest(); });
  document.addEventListener("htmx:afterSettle", function () { checkCrises(); showLatest(); });
  window.consoleAlert = { beep: beep, check: checkCrises };
})();
