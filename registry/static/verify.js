// Drag and drop for /verify. The form works without this script: it only
// lets files dropped on the zone fill the file input, then sends the form.
(function () {
  "use strict";
  var zone = document.getElementById("dropzone");
  var input = document.getElementById("file");
  if (!zone || !input || typeof DataTransfer === "undefined") { return; }
  zone.addEventListener("dragover", function (event) {
    event.preventDefault();
    zone.classList.add("over");
  });
  zone.addEventListener("dragleave", function () { zone.classList.remove("over"); });
  zone.addEventListener("drop", function (event) {
    event.preventDefault();
    zone.classList.remove("over");
    var files = new DataTransfer();
    Array.prototype.forEach.call(event.dataTransfer.files, function (file) { files.items.add(file); });
    input.files = files.files;
    if (input.files.length) { input.form.requestSubmit(); }
  });
})();
