// Document page: hovering or selecting a field highlights its box on the page image.
(function () {
  "use strict";
  var table = document.getElementById("fields");
  if (!table) return;
  function show(name, scroll) {
    document.querySelectorAll(".page .box.on, #fields tr.on").forEach(function (el) { el.classList.remove("on"); });
    if (!name) return;
    var box = document.querySelector('.page .box[data-field="' + name + '"]');
    var row = table.querySelector('tr[data-field="' + name + '"]');
    if (row) row.classList.add("on");
    if (box) {
      box.classList.add("on");
      if (scroll) box.scrollIntoView({ block: "center", behavior: "smooth" });
    }
  }
  table.querySelectorAll("tbody tr[data-field]").forEach(function (row) {
    row.addEventListener("mouseenter", function () { show(row.dataset.field, false); });
    row.addEventListener("focus", function () { show(row.dataset.field, true); });
    row.addEventListener("click", function () { show(row.dataset.field, true); });
  });
  table.addEventListener("mouseleave", function () {
    var focused = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.field : null;
    show(focused || null, false);
  });
  var wanted = new URLSearchParams(window.location.search).get("field");
  if (wanted) show(wanted, true);
})();
