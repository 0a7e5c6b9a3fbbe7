/* advisor-bot consoles: small progressive enhancements; every page works without them. */
(function () {
  "use strict";

  // Confirm destructive actions: <form data-confirm="...">
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    var msg = form.getAttribute && form.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) { ev.preventDefault(); }
  });

  // The approval queue: j/k move, a approve, e edit then send, i ignore, Esc cancels an edit.
  var queue = document.querySelector("[data-queue]");
  if (!queue) { return; }
  var items = function () { return Array.prototype.slice.call(queue.querySelectorAll(".suggestion")); };
  var index = 0;

  function select(i) {
    var list = items();
    if (!list.length) { return; }
    index = Math.max(0, Math.min(i, list.length - 1));
    list.forEach(function (el, n) { el.classList.toggle("selected", n === index); });
    list[index].scrollIntoView({ block: "nearest" });
  }

  function current() { return items()[index]; }

  function submit(action) {
    var el = current();
    if (!el) { return; }
    var form = el.querySelector("form[data-action='" + action + "']");
    if (!form) { return; }
    var button = form.querySelector("button[type=submit]");
    if (button && button.disabled) { edit(); return; }  // nothing to approve as is: write a reply
    form.submit();
  }

  function edit() {
    var el = current();
    if (!el) { return; }
    el.classList.add("editing");
    var area = el.querySelector("textarea");
    if (area) { area.focus(); area.setSelectionRange(area.value.length, area.value.length); }
  }

  queue.addEventListener("click", function (ev) {
    var el = ev.target.closest(".suggestion");
    if (el) { select(items().indexOf(el)); }
    if (ev.target.matches("[data-edit]")) { ev.preventDefault(); edit(); }
  });

  document.addEventListener("keydown", function (ev) {
    var typing = /^(INPUT|TEXTAREA|SELECT)$/.test(ev.target.tagName);
    if (typing) {
      if (ev.key === "Escape") { ev.target.blur(); var el = current(); if (el) { el.classList.remove("editing"); } }
      if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey) && ev.target.form) { ev.target.form.submit(); }
      return;
    }
    if (ev.ctrlKey || ev.metaKey || ev.altKey) { return; }
    switch (ev.key) {
      case "j": select(index + 1); break;
      case "k": select(index - 1); break;
      case "a": submit("approve"); break;
      case "i": submit("ignore"); break;
      case "e": ev.preventDefault(); edit(); break;
      default: return;
    }
  });

  // A link to one suggestion (/advisor/#s123, e.g. from the approval card in WeCom) selects it.
  function selectFromHash() {
    var target = window.location.hash && document.getElementById(window.location.hash.slice(1));
    select(target ? Math.max(0, items().indexOf(target)) : 0);
  }
  window.addEventListener("hashchange", selectFromHash);
  selectFromHash();
})();
