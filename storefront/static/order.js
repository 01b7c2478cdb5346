// The new-order form: show only the fields the chosen service takes, narrow
// the service list to a category, and show the charge as it is typed. The
// form works without this file; the server computes the same charge.
(function () {
  "use strict";
  var form = document.getElementById("order-form");
  if (!form) return;
  var service = form.querySelector("#service");
  var category = form.querySelector("#category");
  var info = form.querySelector("#service-info");
  var charge = form.querySelector("#charge");
  var currency = "";

  function chosen() {
    return service.options[service.selectedIndex] || null;
  }

  // Micro-units to a decimal string with two to six decimals, as the server
  // prints money.
  function money(micros) {
    var whole = micros / 1000000n, frac = (micros % 1000000n).toString().padStart(6, "0").replace(/0+$/, "");
    while (frac.length < 2) frac += "0";
    return whole.toString() + "." + frac;
  }

  function lines(name) {
    var el = form.querySelector("[name=" + name + "]");
    if (!el) return 0;
    return el.value.split(/\r\n|[\n\r\v\f\u0085\u2028\u2029]/).filter(function (l) { return l.trim() !== ""; }).length;
  }

  function whole(name) {
    var el = form.querySelector("[name=" + name + "]");
    return el && /^\d{1,12}$/.test(el.value.trim()) ? BigInt(el.value.trim()) : null;
  }

  function showFields() {
    var opt = chosen();
    var fields = opt && opt.value ? (opt.dataset.fields || "").split(" ") : null;
    form.querySelectorAll("[data-field]").forEach(function (el) {
      var on = !fields || fields.indexOf(el.dataset.field) >= 0;
      el.hidden = !on;
      el.querySelectorAll("input, textarea").forEach(function (i) { i.disabled = !on; });
    });
    if (opt && opt.value) {
      info.textContent = opt.dataset.type + " · min " + Number(opt.dataset.min).toLocaleString("en") +
        ", max " + Number(opt.dataset.max).toLocaleString("en");
      var q = form.querySelector("#quantity-hint");
      if (q) q.textContent = "Between " + Number(opt.dataset.min).toLocaleString("en") + " and " + Number(opt.dataset.max).toLocaleString("en") + ".";
    }
    price();
  }

  function price() {
    var opt = chosen(), out = charge.querySelector("strong");
    if (!out) return;
    if (!opt || !opt.value) { out.textContent = "—"; return; }
    var type = opt.dataset.type, units = null;
    if (type === "Package") units = BigInt(opt.dataset.min);
    else if (type === "Custom Comments") units = BigInt(lines("comments"));
    else if (type === "Mentions Custom List") units = BigInt(lines("usernames"));
    else units = whole("quantity");
    var runs = whole("runs");
    if (units !== null && runs !== null && runs > 0n && (opt.dataset.fields || "").indexOf("dripfeed") >= 0) units *= runs;
    if (units === null || units === 0n) { out.textContent = "—"; return; }
    var micros = (BigInt(opt.dataset.rate) * units + 999n) / 1000n;
    out.textContent = money(micros);
    var note = charge.querySelector(".hint");
    if (!note) { note = document.createElement("span"); note.className = "hint"; charge.appendChild(note); }
    note.textContent = "for " + units.toLocaleString("en") + " units";
  }

  function filterCategory() {
    var want = category.value;
    service.querySelectorAll("optgroup").forEach(function (g) {
      var show = !want || g.label === want;
      g.hidden = !show;
      g.disabled = !show;
    });
    var opt = chosen();
    if (want && opt && opt.value && opt.dataset.category !== want) {
      service.value = "";
      showFields();
    }
  }

  category.addEventListener("change", filterCategory);
  service.addEventListener("change", function () {
    var opt = chosen();
    if (opt && opt.value && category.value && opt.dataset.category !== category.value) category.value = opt.dataset.category;
    showFields();
  });
  form.addEventListener("input", price);
  filterCategory();
  showFields();
})();
