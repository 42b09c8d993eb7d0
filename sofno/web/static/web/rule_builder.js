// The notification rule builder: filter the event types, show the ticket statuses
// only for ticket events, offer the chosen types' fields in the condition rows, and
// show the preview without leaving the page. Plain DOM; the page works without it
// (the server renders every part), this only makes it quicker to use.
(function () {
  "use strict";
  var form = document.getElementById("rule-form");
  var dataNode = document.getElementById("rule-builder-data");
  if (!form || !dataNode) return;
  var types = JSON.parse(dataNode.textContent).types;
  var list = document.getElementById("event-type-list");
  var filter = document.getElementById("event-type-filter");
  var none = document.getElementById("event-type-none");
  var chosenLine = document.getElementById("event-types-chosen");
  var statuses = document.getElementById("ticket-statuses");
  var rows = document.getElementById("condition-rows");
  var addButton = document.getElementById("condition-add");
  var noConditions = document.getElementById("no-conditions");
  var template = document.getElementById("condition-row-template");
  var counter = rows.querySelectorAll(".condition-row").length;

  function boxes() {
    return Array.prototype.slice.call(list.querySelectorAll("input[type=checkbox]"));
  }

  function chosen() {
    return boxes().filter(function (b) { return b.checked; }).map(function (b) { return b.value; });
  }

  function matches(patterns, name) {
    return patterns.some(function (p) {
      return p === "*" || p === name || (p.slice(-2) === ".*" && name.indexOf(p.slice(0, -1)) === 0);
    });
  }

  // The fields (tokens) of every chosen type, once each, sorted by name.
  function tokens() {
    var patterns = chosen();
    var seen = {};
    Object.keys(types).sort().forEach(function (name) {
      if (!patterns.length || !matches(patterns, name)) return;
      types[name].tokens.forEach(function (t) { if (!(t[0] in seen)) seen[t[0]] = t[1]; });
    });
    return Object.keys(seen).sort().map(function (k) { return [k, seen[k]]; });
  }

  function fillTokens(select, offered) {
    var current = select.value;
    var placeholder = select.options[0];
    select.textContent = "";
    select.appendChild(placeholder);
    var found = false;
    offered.forEach(function (t) {
      var option = new Option(t[1], t[0], false, t[0] === current);
      if (t[0] === current) found = true;
      select.appendChild(option);
    });
    if (current && !found) {
      // Kept, not dropped: the server says if it no longer fits the chosen types.
      select.appendChild(new Option(current, current, false, true));
    }
  }

  function syncValue(row) {
    var op = row.querySelector(".condition-op");
    var value = row.querySelector(".condition-value");
    // Read-only, not disabled: a disabled input is not posted, and the rows' lists
    // must stay the same length.
    value.readOnly = op.value === "exists";
    if (value.readOnly) value.value = "";
  }

  function refresh() {
    var patterns = chosen();
    var offered = tokens();
    rows.querySelectorAll(".condition-token").forEach(function (s) { fillTokens(s, offered); });
    var ticket = patterns.some(function (p) { return p === "*" || p.indexOf("ticket.") === 0; });
    statuses.classList.toggle("d-none", !ticket);
    chosenLine.textContent = patterns.join(", ");
    chosenLine.parentNode.classList.toggle("d-none", !patterns.length);
    noConditions.classList.toggle("d-none", rows.children.length > 0);
  }

  function addRow() {
    counter += 1;
    var html = template.innerHTML.replace(/__n__/g, String(counter));
    var holder = document.createElement("div");
    holder.innerHTML = html.trim();
    var row = holder.firstElementChild;
    rows.appendChild(row);
    fillTokens(row.querySelector(".condition-token"), tokens());
    syncValue(row);
    refresh();
    row.querySelector(".condition-token").focus();
  }

  filter.classList.remove("d-none");
  addButton.classList.remove("d-none");
  filter.addEventListener("input", function () {
    var words = filter.value.trim().toLowerCase();
    var shown = 0;
    list.querySelectorAll(".event-type-option").forEach(function (option) {
      var hit = !words || option.textContent.toLowerCase().indexOf(words) !== -1;
      option.classList.toggle("d-none", !hit);
      if (hit) shown += 1;
    });
    none.classList.toggle("d-none", shown > 0);
  });
  list.addEventListener("change", refresh);
  addButton.addEventListener("click", addRow);
  rows.addEventListener("click", function (event) {
    var button = event.target.closest(".condition-remove");
    if (!button) return;
    button.closest(".condition-row").remove();
    refresh();
  });
  rows.addEventListener("change", function (event) {
    if (event.target.classList.contains("condition-op")) {
      syncValue(event.target.closest(".condition-row"));
    }
  });
  rows.querySelectorAll(".condition-row").forEach(syncValue);
  refresh();
  // An edited rule: bring its first chosen type into the list's view (the list only).
  var first = list.querySelector("input:checked");
  if (first) list.scrollTop = first.closest(".event-type-option").offsetTop - list.clientHeight / 3;

  // The preview: post the form as filled in, and show the server's answer in place.
  var previewBox = document.getElementById("rule-preview");
  form.addEventListener("submit", function (event) {
    var submitter = event.submitter;
    if (!submitter || submitter.name !== "preview" || !window.fetch) return;
    event.preventDefault();
    var body = new FormData(form);
    body.append("preview", "1");
    previewBox.setAttribute("aria-busy", "true");
    fetch(form.action || window.location.href, {
      method: "POST",
      body: body,
      credentials: "same-origin",
    })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        if (doc.querySelector("#rule-form .invalid-feedback, #rule-form .alert-danger")) {
          // The form needs correcting: show the whole page with its errors.
          var flag = document.createElement("input");
          flag.type = "hidden";
          flag.name = "preview";
          flag.value = "1";
          form.appendChild(flag);
          form.submit();
          return;
        }
        var answer = doc.getElementById("rule-preview");
        previewBox.innerHTML = answer ? answer.innerHTML : "";
      })
      .catch(function () { form.submit(); })
      .finally(function () { previewBox.removeAttribute("aria-busy"); });
  });
})();
