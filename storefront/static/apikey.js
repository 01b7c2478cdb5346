// The API page: fill a pasted key into every example. The key never leaves
// the browser.
(function () {
  "use strict";
  var input = document.querySelector("[data-apikey]");
  if (!input) return;
  input.hidden = false;
  var box = input.closest("[data-apikey-box]");
  if (box) box.hidden = false; // the box only asks for a paste that this script fills in
  input.addEventListener("input", function () {
    var key = input.value.trim() || "YOUR_API_KEY";
    document.querySelectorAll("[data-key]").forEach(function (el) { el.textContent = key; });
  });
})();
