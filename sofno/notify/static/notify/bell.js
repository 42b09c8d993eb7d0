// The bell: polls the unread count and updates the badge without a reload.
(function () {
  "use strict";
  var bell = document.getElementById("notification-bell");
  if (!bell) return;
  var badge = document.getElementById("notification-count");
  var url = bell.getAttribute("data-unread-url");
  var interval = parseInt(bell.getAttribute("data-interval") || "5000", 10);
  var label = bell.getAttribute("title") || "";

  function show(count) {
    badge.textContent = count > 99 ? "99+" : String(count);
    badge.classList.toggle("d-none", count === 0);
    bell.setAttribute("aria-label", count ? label + " (" + count + ")" : label);
    document.dispatchEvent(new CustomEvent("sofno:unread", { detail: count }));
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) { if (data) show(data.unread); })
      .catch(function () { /* offline for a moment: the next poll catches up */ })
      .finally(function () { setTimeout(poll, document.hidden ? interval * 4 : interval); });
  }
  poll();
})();
