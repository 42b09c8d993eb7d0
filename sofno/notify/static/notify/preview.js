// Live template preview: renders the form through the API's sandboxed preview.
(function () {
  "use strict";
  var form = document.getElementById("template-form");
  if (!form) return;
  var url = form.getAttribute("data-preview-url");
  var timer = null;

  function value(name) {
    var field = form.elements[name];
    return field ? field.value : "";
  }
  function refresh() {
    var token = value("csrfmiddlewaretoken");
    fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token },
      body: JSON.stringify({
        event_type: value("event_type"),
        channel: value("channel"),
        subject: value("subject"),
        text_body: value("text_body"),
        html_body: value("html_body"),
      }),
    })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        document.getElementById("preview-subject").textContent = data.subject || "";
        document.getElementById("preview-text").textContent = data.text || "";
        // Rendered HTML goes into a sandboxed frame: no script, no same origin.
        document.getElementById("preview-html").srcdoc = data.html || "";
        var list = document.getElementById("preview-problems");
        list.textContent = "";
        (data.problems || data.errors || []).forEach(function (problem) {
          var item = document.createElement("li");
          item.textContent = problem.field + ": " + problem.message;
          list.appendChild(item);
        });
      })
      .catch(function () { /* the next keystroke tries again */ });
  }
  form.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(refresh, 300);
  });
  refresh();
})();
