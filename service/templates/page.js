// Citations open their evidence in place; without this script, CSS :target does the same.
(function () {
  "use strict";
  var quiet = false; // focus moved back by the script itself: do not reopen
  document.documentElement.classList.add("js");
  function citesOf(panel) {
    return document.querySelectorAll('a.cite[aria-controls="' + panel.id + '"]');
  }
  function close(panel) {
    panel.classList.remove("open");
    citesOf(panel).forEach(function (a) { a.setAttribute("aria-expanded", "false"); });
  }
  function open(panel) {
    document.querySelectorAll(".evidence.open").forEach(function (p) { if (p !== panel) close(p); });
    panel.classList.add("open");
    citesOf(panel).forEach(function (a) { a.setAttribute("aria-expanded", "true"); });
    panel.scrollIntoView({ block: "nearest" });
  }
  function refocus(panel) {
    var cite = citesOf(panel)[0];
    if (!cite) return;
    quiet = true;
    cite.focus();
    quiet = false;
  }
  function panelOf(link) {
    return document.getElementById(link.getAttribute("href").slice(1));
  }
  document.addEventListener("click", function (event) {
    var link = event.target.closest("a");
    if (!link) return;
    if (link.classList.contains("cite")) {
      var panel = panelOf(link);
      if (!panel) return;
      event.preventDefault();
      open(panel);
      history.replaceState(null, "", "#" + panel.id);
    } else if (link.classList.contains("close")) {
      var shown = link.closest(".evidence");
      if (!shown) return;
      event.preventDefault();
      close(shown);
      refocus(shown);
    }
  });
  document.addEventListener("focusin", function (event) {
    if (quiet) return;
    var link = event.target.closest && event.target.closest("a.cite");
    var panel = link && panelOf(link);
    if (panel) open(panel);
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var shown = document.querySelector(".evidence.open");
    if (shown) { close(shown); refocus(shown); }
  });
  function reveal() {
    var target = location.hash && document.getElementById(location.hash.slice(1));
    if (!target) return;
    if (target.classList.contains("evidence")) { open(target); return; }
    for (var d = target.closest("details"); d; d = d.parentElement.closest("details")) d.open = true;
  }
  window.addEventListener("hashchange", reveal);
  reveal();
})();
