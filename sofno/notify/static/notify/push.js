// Web push opt-in on the inbox page: register /sw.js, subscribe after a click.
(function () {
  "use strict";
  var button = document.getElementById("push-enable");
  if (!button) return;
  var status = document.getElementById("push-status");
  if (!("serviceWorker" in navigator) || !("PushManager" in window)) {
    status.textContent = button.getAttribute("data-unsupported");
    button.disabled = true;
    return;
  }
  function keyBytes(base64url) {
    var padded = (base64url + "===".slice((base64url.length + 3) % 4))
      .replace(/-/g, "+").replace(/_/g, "/");
    var raw = atob(padded);
    var out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  }
  function csrf() {
    var match = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }
  button.addEventListener("click", function () {
    navigator.serviceWorker.register("/sw.js", { scope: "/" })
      .then(function (registration) {
        return registration.pushManager.subscribe({
          userVisibleOnly: true,
          applicationServerKey: keyBytes(button.getAttribute("data-key")),
        });
      })
      .then(function (subscription) {
        return fetch(button.getAttribute("data-url"), {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-CSRFToken": csrf() },
          body: JSON.stringify(subscription.toJSON()),
        });
      })
      .then(function (response) {
        status.textContent = response.ok
          ? button.getAttribute("data-done") : button.getAttribute("data-failed");
      })
      .catch(function () { status.textContent = button.getAttribute("data-failed"); });
  });
})();
