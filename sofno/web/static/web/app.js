// Every page: register the service worker (web push, and what makes SOFNO an app
// a phone can add to its home screen). Push itself is opted into on the inbox page.
if ("serviceWorker" in navigator && window.isSecureContext) {
  navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () {});
}
