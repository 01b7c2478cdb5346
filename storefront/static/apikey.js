// The API page: fill a pasted key into every example. The key never leaves
// the browser.
(function () {
  "use strict";
  var input = document.querySelector("[data-apikey]");
  if (!input) return;
  input.hidden = false;
  input.addEventListener("input", function () {
    var key = input.value.trim() || "YOUR_API_KEY";
    document.querySelectorAll("[data-key]").forEach(function (el) { el.textContent = key; });
  });
})();
