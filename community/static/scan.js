// Badge scanning on the web: the camera (through the vendored qr-scanner library) reads another
// attendee's badge and fills in its code; typing the code works the same without a camera.
(function () {
  "use strict";
  var start = document.querySelector("[data-scanner-start]");
  var form = document.querySelector("[data-scan-form]");
  if (!start || !form || !window.QrScanner) { return; }
  var box = document.querySelector("[data-scanner]");
  var video = box.querySelector("[data-scanner-video]");
  var codeInput = form.elements.badge_code;
  var scanner = new window.QrScanner(video, function (result) {
    codeInput.value = result.data.trim();
    stop();
    form.elements.note.focus();  // the code is in: add a note, a rating, then save
  }, { returnDetailedScanResult: true, preferredCamera: "environment" });

  function stop() {
    scanner.stop();
    box.classList.add("hidden");
    start.classList.remove("hidden");
  }

  start.addEventListener("click", function () {
    box.classList.remove("hidden");
    start.classList.add("hidden");
    scanner.start().catch(function () {
      stop();
      start.textContent = "No camera available: type the code instead";
      start.disabled = true;
    });
  });
  box.querySelector("[data-scanner-stop]").addEventListener("click", stop);
})();
