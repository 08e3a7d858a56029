// What the pages used to say in onclick/onchange/onsubmit attributes and style attributes,
// which the Content-Security-Policy refuses: each is a data- attribute handled here.
(function () {
  "use strict";

  // <select data-submit-on-change>: choosing sends its form (the language menu).
  document.addEventListener("change", function (event) {
    var field = event.target;
    if (field.matches("[data-submit-on-change]") && field.form) field.form.submit();
    // <input type="checkbox" data-check-all="SELECTOR">: ticks or clears every match.
    var selector = field.getAttribute("data-check-all");
    if (selector) {
      document.querySelectorAll(selector).forEach(function (box) { box.checked = field.checked; });
    }
  });

  // <button data-print>: print the page.
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-print]")) window.print();
  });

  // <form data-confirm="question">: ask before sending.
  document.addEventListener("submit", function (event) {
    var question = event.target.getAttribute("data-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
  });

  // <div data-percent="N">: a bar N % wide (set through the CSS object model, which the
  // policy allows, where a style attribute is refused).
  function drawBars(root) {
    root.querySelectorAll("[data-percent]").forEach(function (bar) {
      var percent = Math.max(0, Math.min(100, parseFloat(bar.getAttribute("data-percent")) || 0));
      bar.style.width = percent + "%";
    });
  }
  document.addEventListener("DOMContentLoaded", function () { drawBars(document); });
  document.addEventListener("htmx:afterSwap", function (event) { drawBars(event.target); });
})();
