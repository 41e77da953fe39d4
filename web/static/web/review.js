// Review page, keyboard first: Tab / Shift+Tab move between fields (the page zooms to the field's
// box), Enter saves the field (a correction when changed) and moves on, Ctrl+Enter confirms all,
// Esc puts the value back.
(function () {
  "use strict";
  var form = document.getElementById("review-form");
  if (!form) return;
  var canvas = document.getElementById("zoom");
  var ctx = canvas.getContext("2d");
  var images = {};
  var token = document.querySelector('meta[name="csrf-token"]').content;
  var inputs = Array.prototype.slice.call(form.querySelectorAll("input[name^='f_']"));

  function pageImage(no, cb) {
    if (images[no]) { if (images[no].complete) cb(images[no]); else images[no].addEventListener("load", function () { cb(images[no]); }); return; }
    var holder = document.querySelector('.page[data-page="' + no + '"]');
    if (!holder) return;
    var img = new Image();
    img.src = holder.dataset.src;
    images[no] = img;
    img.addEventListener("load", function () { cb(img); });
  }

  function zoom(row) {
    document.querySelectorAll(".page .box.on, tr.focus").forEach(function (el) { el.classList.remove("on"); el.classList.remove("focus"); });
    row.classList.add("focus");
    var box = document.querySelector('.page .box[data-field="' + row.dataset.field + '"]');
    if (box) box.classList.add("on");
    canvas.width = canvas.clientWidth; canvas.height = canvas.clientHeight;
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    if (!row.dataset.page) return;
    pageImage(row.dataset.page, function (img) {
      var W = img.naturalWidth, H = img.naturalHeight;
      var bx = +row.dataset.left / 100 * W, by = +row.dataset.top / 100 * H;
      var bw = +row.dataset.width / 100 * W, bh = +row.dataset.height / 100 * H;
      var pad = Math.max(bh * 1.5, 40);
      var sx = Math.max(0, bx - pad * 2), sy = Math.max(0, by - pad), sw = Math.min(W - sx, bw + pad * 4), sh = Math.min(H - sy, bh + pad * 2);
      var scale = Math.min(canvas.width / sw, canvas.height / sh);
      var dw = sw * scale, dh = sh * scale, dx = (canvas.width - dw) / 2, dy = (canvas.height - dh) / 2;
      ctx.drawImage(img, sx, sy, sw, sh, dx, dy, dw, dh);
      ctx.strokeStyle = "#e5534b"; ctx.lineWidth = 2;
      ctx.strokeRect(dx + (bx - sx) * scale, dy + (by - sy) * scale, bw * scale, bh * scale);
    });
  }

  function post(data, done) {
    var body = new FormData();
    Object.keys(data).forEach(function (k) { body.append(k, data[k]); });
    fetch(form.getAttribute("action"), { method: "POST", body: body, credentials: "same-origin",
                         headers: { "X-CSRFToken": token, "X-Requested-With": "fetch" } })
      .then(function (r) {
        var type = r.headers.get("Content-Type") || "";
        if (type.indexOf("application/json") !== 0) { window.location.reload(); return null; }  // session expired: log in again
        return r.json().then(function (j) { done(r.ok, j); });
      })
      .catch(function () { done(false, { errors: ["network error"] }); });
  }

  inputs.forEach(function (input, i) {
    var row = input.closest("tr");
    input.addEventListener("focus", function () { zoom(row); });
    input.addEventListener("keydown", function (ev) {
      if (ev.key === "Escape") { input.value = input.dataset.original; ev.preventDefault(); return; }
      if (ev.key !== "Enter") return;
      ev.preventDefault();
      if (ev.ctrlKey || ev.metaKey) { document.getElementById("confirm-all").click(); return; }
      var next = inputs[i + 1];
      if (input.value.trim() === input.dataset.original) { if (next) next.focus(); return; }
      var data = { action: "save" }; data[input.name] = input.value;
      post(data, function (ok, j) {
        var note = row.querySelector("[data-note]");
        if (!ok) { note.textContent = (j.errors || []).join("; "); note.classList.add("error"); return; }
        var f = j.fields[input.name.slice(2)];
        input.value = f.value === null ? "" : f.value;
        input.dataset.original = input.value;
        note.textContent = f.note || ""; note.classList.remove("error");
        row.classList.toggle("doubt", f.doubtful);
        document.getElementById("state").hidden = !j.needs_review;
        if (next) next.focus();
      });
    });
  });
  var first = form.querySelector("input[autofocus]") || inputs[0];
  if (first) { first.focus(); first.select(); zoom(first.closest("tr")); }
})();
