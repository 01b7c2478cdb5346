// The services page: filter the catalog as one types. Without this file
// the filter form asks the server, which filters the same way.
(function () {
  "use strict";
  var input = document.querySelector("[data-filter]");
  if (!input) return;
  var count = document.querySelector("[data-count]");
  var total = document.querySelectorAll("[data-service]").length;
  function run() {
    var words = input.value.toLowerCase().split(/\s+/).filter(Boolean), shown = 0;
    document.querySelectorAll("[data-category]").forEach(function (section) {
      var any = false;
      section.querySelectorAll("[data-service]").forEach(function (row) {
        var hay = row.dataset.search.toLowerCase() + " " + row.dataset.search.toLowerCase().replace("#", "");
        var ok = words.every(function (w) { return hay.indexOf(w) >= 0; });
        row.hidden = !ok;
        if (ok) { any = true; shown++; }
      });
      section.hidden = !any;
    });
    if (count) count.textContent = words.length ? shown + " of " + total + " services match." : total + " services.";
  }
  input.addEventListener("input", run);
})();
