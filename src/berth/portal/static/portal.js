// berth portal: copy buttons and delete confirmations. No framework; works without it too.
(function () {
  "use strict";
  function copyText(button) {
    var text = button.getAttribute("data-copy") || "";
    var done = function () {
      var label = button.textContent;
      button.textContent = "Copied";
      window.setTimeout(function () { button.textContent = label; }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { window.prompt("Copy:", text); });
    } else {
      window.prompt("Copy:", text);
    }
  }
  document.addEventListener("click", function (event) {
    var target = event.target;
    if (target instanceof Element) {
      var button = target.closest("button.copy");
      if (button) { copyText(button); }
    }
  });
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form instanceof HTMLFormElement && form.classList.contains("confirm")) {
      if (!window.confirm(form.getAttribute("data-confirm") || "Are you sure?")) {
        event.preventDefault();
      }
    }
  });
})();
