// A worker's revealed personal data (templates/dashboard/programme/_reveal.html): hidden again when the access
// expires, or at once with "Hide now"; the values are removed from the page, not just out of sight. A refused
// reveal (400, 403) is swapped in place too, so its errors show under the form.
(function () {
  "use strict";

  function hide(box) {
    var values = box.querySelector("[data-revealed-values]");
    if (values) values.remove();
    var button = box.querySelector("[data-reveal-hide]");
    if (button) button.remove();
    var gone = box.querySelector("[data-revealed-gone]");
    if (gone) gone.hidden = false;
  }

  function arm(root) {
    root.querySelectorAll(".revealed[data-expires-at]").forEach(function (box) {
      if (box.dataset.armed) return;
      box.dataset.armed = "1";
      var left = Date.parse(box.dataset.expiresAt) - Date.now();
      window.setTimeout(function () { hide(box); }, Math.max(0, left));
      var button = box.querySelector("[data-reveal-hide]");
      if (button) button.addEventListener("click", function () { hide(box); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () { arm(document); });
  // Content htmx puts in the page (the panel after a reveal) is announced by htmx:load, on the new element.
  document.addEventListener("htmx:load", function (event) { arm(event.detail.elt || document); });
  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    if (event.detail.target.id === "reveal-panel" && (status === 400 || status === 403)) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
  // A reveal is never kept in the browser's history cache.
  document.addEventListener("htmx:beforeHistorySave", function () {
    document.querySelectorAll(".revealed[data-expires-at]").forEach(hide);
  });
})();
