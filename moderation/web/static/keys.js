// Keyboard shortcuts for moderators. Everything here is also a link or a form
// that works without JavaScript; this file only saves key presses.
(function () {
  "use strict";

  function typing(event) {
    var t = event.target;
    var tag = t && t.tagName ? t.tagName.toLowerCase() : "";
    return tag === "input" || tag === "textarea" || tag === "select" || (t && t.isContentEditable);
  }

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("tr[data-href]"));
  }

  function moveRow(step) {
    var all = rows();
    if (!all.length) { return false; }
    var index = all.findIndex(function (row) { return row.classList.contains("current"); });
    index = Math.min(all.length - 1, Math.max(0, index + step));
    if (index < 0) { index = 0; }
    all.forEach(function (row) { row.classList.remove("current"); });
    all[index].classList.add("current");
    all[index].scrollIntoView({ block: "nearest" });
    var link = all[index].querySelector("a");
    if (link) { link.focus(); }
    return true;
  }

  function follow(selector) {
    var link = document.querySelector(selector);
    if (link) { window.location.href = link.href; return true; }
    return false;
  }

  function submit(selector) {
    var form = document.querySelector(selector);
    if (!form) { return false; }
    if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
    return true;
  }

  function focusField(selector) {
    var field = document.querySelector(selector);
    if (!field) { return false; }
    var details = field.closest("details");
    if (details) { details.open = true; }
    field.focus();
    field.scrollIntoView({ block: "center" });
    return true;
  }

  var keys = {
    j: function () { return moveRow(1) || follow("a#next-comment"); },
    k: function () { return moveRow(-1) || follow("a#prev-comment"); },
    a: function () { return submit("form#approve-form"); },
    r: function () { return focusField("#reject-form select, #reject-form textarea"); },
    e: function () { return focusField("#edit-text"); },
    "?": function () {
      var help = document.getElementById("keyboard-help");
      if (help) { help.hidden = !help.hidden; }
      return !!help;
    },
    Enter: function () {
      var current = document.querySelector("tr.current[data-href]");
      if (current) { window.location.href = current.getAttribute("data-href"); return true; }
      return false;
    }
  };

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event)) { return; }
    var action = keys[event.key];
    if (action && action()) { event.preventDefault(); }
  });
}());
