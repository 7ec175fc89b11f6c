/* Behaviour every dashboard page shares, kept out of the HTML so that the Content-Security-Policy
 * (script-src 'self', style-src 'self': no inline script, no style attribute) holds.
 *
 * - Bars: an element with data-width="42.50%" (the `share` template tag) gets that width. Setting it here
 *   through the element's style object is allowed by style-src 'self'; a style="" attribute in the HTML is not.
 * - Refusals in place: inside an element marked data-swap-refusals, an htmx answer of 400 or 403 (a form's
 *   errors, a refused decision) replaces its target like a success, so its message shows where the button was.
 *
 * Both run on the page when it loads and again on whatever htmx swaps in (htmx:load).
 */
(function () {
  "use strict";

  var WIDTH = /^\d{1,3}(\.\d+)?%$/;

  function setWidths(root) {
    var scope = root && root.querySelectorAll ? root : document;
    var elements = Array.prototype.slice.call(scope.querySelectorAll("[data-width]"));
    if (scope.matches && scope.matches("[data-width]")) elements.push(scope);
    elements.forEach(function (element) {
      var width = element.getAttribute("data-width");
      if (WIDTH.test(width)) element.style.width = width;
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { setWidths(document); });
  } else {
    setWidths(document);
  }
  document.addEventListener("htmx:load", function (event) { setWidths(event.detail.elt || event.target); });

  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    // The event bubbles from the element that made the request (a button or form in the marked element).
    var inside = event.target.closest && event.target.closest("[data-swap-refusals]");
    if (inside && (status === 400 || status === 403)) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
})();
