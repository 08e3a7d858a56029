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

  // <form data-confirm="question"> or <button data-confirm="question">: ask before sending.
  // With data-confirm-count="SELECTOR" the question says how many and to whom: {n} becomes
  // the number of matches, {names} their data-name attributes; with none chosen,
  // data-confirm-none is said instead and nothing is sent.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    // <button data-confirm="…">: only that button asks (a form with "Preview" and "Apply").
    var button = event.submitter;
    var question = (button && button.getAttribute("data-confirm")) || form.getAttribute("data-confirm");
    if (!question) return;
    var selector = form.getAttribute("data-confirm-count");
    if (selector) {
      var chosen = Array.prototype.slice.call(form.querySelectorAll(selector));
      if (!chosen.length && form.getAttribute("data-confirm-none")) {
        window.alert(form.getAttribute("data-confirm-none"));
        event.preventDefault();
        return;
      }
      var names = chosen.map(function (box) { return box.getAttribute("data-name") || box.value; });
      var shown = names.length > 20 ? names.slice(0, 20).concat("…") : names;
      question = question.split("{n}").join(String(chosen.length))
        .split("{names}").join(shown.join(", "));
    }
    if (!window.confirm(question)) event.preventDefault();
  });

  // <input data-select-on-focus>: a read-only link is selected whole, ready to copy.
  document.addEventListener("focusin", function (event) {
    if (event.target.matches && event.target.matches("[data-select-on-focus]")) event.target.select();
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
