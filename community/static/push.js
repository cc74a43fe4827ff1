// "Enable notifications on this device" on the settings page: registers the service worker,
// subscribes this browser with the server's VAPID key and registers the subscription for this
// web session (signing out removes it). Switching off unsubscribes the browser and the server.
(function () {
  "use strict";
  var toggle = document.getElementById("push-device");
  if (!toggle) { return; }
  var status = document.getElementById("push-device-status");
  var csrf = toggle.dataset.csrfToken;

  function say(text) { status.textContent = text; }

  if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) {
    toggle.disabled = true;
    say("This browser cannot receive push notifications.");
    return;
  }

  function keyBytes(base64url) {
    var padded = (base64url + "===".slice((base64url.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    var raw = window.atob(padded);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i += 1) { bytes[i] = raw.charCodeAt(i); }
    return bytes;
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin", body: JSON.stringify(body),
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf },
    }).then(function (response) {
      if (!response.ok) { throw new Error("The server said " + response.status + "."); }
      return response;
    });
  }

  var registration = navigator.serviceWorker.register("/service-worker.js");

  function enable() {
    return Notification.requestPermission().then(function (permission) {
      if (permission !== "granted") { throw new Error("Notifications are blocked for this site in the browser."); }
      return Promise.all([registration, fetch(toggle.dataset.configUrl, { credentials: "same-origin" })
        .then(function (response) { return response.json(); })]);
    }).then(function (results) {
      if (!results[1].vapid_public_key) { throw new Error("This site does not send push notifications."); }
      return results[0].pushManager.subscribe({
        userVisibleOnly: true, applicationServerKey: keyBytes(results[1].vapid_public_key),
      });
    }).then(function (subscription) {
      return post(toggle.dataset.subscribeUrl, subscription.toJSON());
    }).then(function () { say("On: this device gets notifications, even with Roundtable closed."); });
  }

  function disable() {
    return registration.then(function (reg) { return reg.pushManager.getSubscription(); })
      .then(function (subscription) {
        if (!subscription) { return null; }
        return post(toggle.dataset.unsubscribeUrl, { endpoint: subscription.endpoint })
          .then(function () { return subscription.unsubscribe(); });
      }).then(function () { say("Off for this device."); });
  }

  registration.then(function (reg) { return reg.pushManager.getSubscription(); }).then(function (subscription) {
    toggle.checked = Boolean(subscription) && Notification.permission === "granted";
    say(toggle.checked ? "On: this device gets notifications, even with Roundtable closed." : "Off for this device.");
  });

  toggle.addEventListener("change", function () {
    toggle.disabled = true;
    (toggle.checked ? enable() : disable()).catch(function (error) {
      toggle.checked = !toggle.checked;
      say(error.message);
    }).then(function () { toggle.disabled = false; });
  });
}());
