/* A text field with a <datalist> becomes a WAI-ARIA combobox (list autocomplete, the APG
   pattern): typing shows the matching names in a listbox below the field; Down and Up move
   through them, Enter or a click chooses one, Escape closes the list. Without this script the
   field keeps its datalist, which browsers suggest from on their own. No dependencies. */
(function () {
  "use strict";
  var MAX_SHOWN = 20;

  function enhance(input) {
    var datalist = document.getElementById(input.getAttribute("list"));
    if (!datalist) return;
    var names = Array.prototype.map.call(datalist.options, function (o) { return o.value; });
    var listbox = document.createElement("ul");
    listbox.id = input.id + "-listbox";
    listbox.className = "combobox-listbox";
    listbox.setAttribute("role", "listbox");
    listbox.setAttribute("aria-label", (input.labels && input.labels[0] ? input.labels[0].textContent : "Suggestions"));
    listbox.hidden = true;
    var status = document.createElement("p");
    status.className = "visually-hidden";
    status.setAttribute("role", "status");
    input.removeAttribute("list");
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", listbox.id);
    input.parentNode.insertBefore(listbox, input.nextSibling);
    input.parentNode.insertBefore(status, listbox.nextSibling);
    var active = -1;

    function options() { return listbox.querySelectorAll("[role=option]"); }

    function close() {
      listbox.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function choose(name) {
      input.value = name;
      close();
      input.focus();
    }

    function show() {
      var typed = input.value.trim().toLowerCase();
      var found = names.filter(function (n) { return typed && n.toLowerCase().indexOf(typed) !== -1; });
      listbox.textContent = "";
      found.slice(0, MAX_SHOWN).forEach(function (name, i) {
        var li = document.createElement("li");
        li.id = listbox.id + "-" + i;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        li.textContent = name;
        li.addEventListener("mousedown", function (event) { event.preventDefault(); choose(name); });
        listbox.appendChild(li);
      });
      active = -1;
      input.removeAttribute("aria-activedescendant");
      var open = found.length > 0;
      listbox.hidden = !open;
      input.setAttribute("aria-expanded", open ? "true" : "false");
      status.textContent = typed ? (found.length === 1 ? "1 co-op matches." : found.length + " co-ops match.") : "";
    }

    function move(step) {
      var all = options();
      if (!all.length) { show(); all = options(); if (!all.length) return; }
      if (active >= 0) all[active].setAttribute("aria-selected", "false");
      active = (active + step + all.length) % all.length;
      all[active].setAttribute("aria-selected", "true");
      input.setAttribute("aria-activedescendant", all[active].id);
      all[active].scrollIntoView({ block: "nearest" });
    }

    input.addEventListener("input", show);
    input.addEventListener("blur", close);
    input.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown") { event.preventDefault(); move(1); }
      else if (event.key === "ArrowUp") { event.preventDefault(); move(-1); }
      else if (event.key === "Escape" && !listbox.hidden) { event.preventDefault(); close(); }
      else if (event.key === "Enter" && active >= 0 && !listbox.hidden) {
        event.preventDefault();  // choose the name; the next Enter submits the form
        choose(options()[active].textContent);
      }
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("input[list][data-combobox]"), enhance);
})();
