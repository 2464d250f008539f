// Progressive enhancement only: every form works without this file.
// A field required only when another has certain values (the cause when the status is yellow
// or red) is hidden while it does not apply; it stays in the page, so nothing typed is lost.
(function () {
  "use strict";
  function update(form) {
    form.querySelectorAll("[data-when-field]").forEach(function (box) {
      var name = box.getAttribute("data-when-field");
      var wanted = box.getAttribute("data-when-values").split(" ");
      var chosen = form.querySelector('[name="' + name + '"]:checked');
      var applies = chosen !== null && wanted.indexOf(chosen.value) !== -1;
      var hasError = box.classList.contains("has-error");
      box.hidden = !(applies || hasError);
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form").forEach(function (form) {
      if (!form.querySelector("[data-when-field]")) { return; }
      update(form);
      form.addEventListener("change", function () { update(form); });
    });
    var summary = document.getElementById("error-summary");
    if (summary) { summary.focus(); }
  });
})();
