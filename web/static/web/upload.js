// Upload: drag and drop (or choose) many files; each is sent on its own with its progress, then
// the server's answer: archived (link), already archived, or the one-line reason it was refused.
(function () {
  "use strict";
  var form = document.getElementById("upload-form");
  if (!form) return;
  var drop = document.getElementById("drop"), input = document.getElementById("files"), list = document.getElementById("list");
  var token = document.querySelector('meta[name="csrf-token"]').content;
  var queue = [], busy = 0, MAX = 2;

  function text(el, s) { el.textContent = s; return el; }
  function add(file) {
    var li = document.createElement("li");
    var name = text(document.createElement("span"), file.name);
    var bar = document.createElement("progress"); bar.max = 100; bar.value = 0;
    var state = document.createElement("span");
    li.append(name, bar, state); list.prepend(li);
    queue.push({ file: file, bar: bar, state: state });
    pump();
  }
  function pump() {
    while (busy < MAX && queue.length) send(queue.shift());
  }
  function send(job) {
    busy++;
    var xhr = new XMLHttpRequest();
    var data = new FormData();
    data.append("file", job.file);
    data.append("store", document.getElementById("store").value);
    xhr.open("POST", form.action);
    xhr.setRequestHeader("X-CSRFToken", token);
    xhr.setRequestHeader("X-Requested-With", "fetch");
    xhr.upload.onprogress = function (e) { if (e.lengthComputable) job.bar.value = Math.round(100 * e.loaded / e.total); };
    xhr.upload.onload = function () { job.bar.removeAttribute("value"); text(job.state, list.dataset.reading); };
    xhr.onloadend = function () {
      busy--;
      var j = null;
      try { j = JSON.parse(xhr.responseText); } catch (e) { j = null; }
      job.bar.max = 100; job.bar.value = 100;
      job.state.textContent = "";
      if (j && (j.status === "archived" || j.status === "duplicate")) {
        var a = document.createElement("a"); a.href = j.url;
        a.textContent = j.status === "archived" ? list.dataset.archived : list.dataset.duplicate;
        job.state.className = "ok"; job.state.append(a);
        if (j.needs_review) job.state.append(" · " + list.dataset.review);
      } else {
        job.state.className = "bad";
        text(job.state, list.dataset.refused + ": " + (j && j.reason ? j.reason : (xhr.status + " " + xhr.statusText)));
      }
      pump();
    };
    xhr.send(data);
  }
  input.addEventListener("change", function () { Array.prototype.forEach.call(input.files, add); input.value = ""; });
  ["dragenter", "dragover"].forEach(function (t) { drop.addEventListener(t, function (e) { e.preventDefault(); drop.classList.add("over"); }); });
  ["dragleave", "drop"].forEach(function (t) { drop.addEventListener(t, function (e) { e.preventDefault(); drop.classList.remove("over"); }); });
  drop.addEventListener("drop", function (e) { Array.prototype.forEach.call(e.dataTransfer.files, add); });
  drop.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); input.click(); } });
})();
