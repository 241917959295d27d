// The console's only script: while a sync runs, the monitoring page shows its progress (issues
// stored of expected, projects done) and shows the page again once the run has ended. Without
// it, the page works as well; the figures are then those of the last load.
"use strict";
(function () {
  var box = document.getElementById("progress");
  if (!box) return;
  var url = box.getAttribute("data-url"); // carries the run number the page waits past
  function show(p) {
    if (p.state === "waiting") { return; }
    var words = box.querySelector("[data-progress]");
    var issues = p.expected === null ? p.stored + " issues stored"
      : p.stored + " of " + p.expected + " issues stored";
    words.textContent = issues + ", " + p.units_done + " of " + p.units + " projects done";
    var bar = box.querySelector("progress");
    if (bar && p.expected) { bar.max = p.expected; bar.value = p.stored; }
  }
  function poll() {
    fetch(url, { credentials: "same-origin" }).then(function (r) { return r.json(); })
      .then(function (p) {
        show(p);
        if (p.state === "ended") { window.location.replace(window.location.pathname + "?synced=1"); }
        else { setTimeout(poll, 1000); }
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  poll();
})();
