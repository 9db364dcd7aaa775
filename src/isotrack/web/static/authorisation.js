// The dispensing authorisation (issue 15), self-hosted, no dependencies.
// - the patient's card: the "Print it" button prints the page (the print
//   stylesheet keeps the authorisation alone);
// - the pharmacy's check: "Scan with the camera" reads the QR code with the
//   browser's BarcodeDetector where it exists and puts the code in the text box;
//   pasting or typing the code always works, with or without a camera.
(function () {
  "use strict";

  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });

  var scanButton = document.querySelector("[data-scan]");
  var field = document.getElementById("field-token");
  var status = document.querySelector("[data-scan-status]");
  if (!scanButton || !field) { return; }
  if (!("BarcodeDetector" in window) || !navigator.mediaDevices) {
    if (status) { status.textContent = "This browser cannot scan: paste or type the code."; }
    return;
  }
  scanButton.hidden = false;
  var video = document.querySelector("[data-scan-video]");

  function stop(stream) {
    stream.getTracks().forEach(function (track) { track.stop(); });
    if (video) { video.hidden = true; }
  }

  scanButton.addEventListener("click", function () {
    var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (stream) {
      video.srcObject = stream;
      video.hidden = false;
      video.play();
      if (status) { status.textContent = "Hold the QR code in front of the camera."; }
      var tries = 0;
      function look() {
        detector.detect(video).then(function (codes) {
          if (codes.length > 0) {
            stop(stream);
            field.value = codes[0].rawValue;
            if (status) { status.textContent = "Code read: checking it."; }
            field.form.submit();
          } else if (tries++ < 600) {
            window.setTimeout(look, 200);
          } else {
            stop(stream);
            if (status) { status.textContent = "No code found: paste or type it instead."; }
          }
        }).catch(function () { window.setTimeout(look, 200); });
      }
      look();
    }).catch(function () {
      if (status) { status.textContent = "The camera is not available: paste or type the code."; }
    });
  });
}());
