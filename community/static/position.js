// "Near me" on the web: on the member's click (never before), ask the browser for the position
// (Geolocation API), send it like the apps do (the server keeps only a 50 m cell), and keep
// sending it while the page is open and the member moves, at most every 20 s.
(function () {
  "use strict";
  var box = document.querySelector("[data-position-url]");
  var button = box && box.querySelector("[data-share-position]");
  if (!button || !navigator.geolocation) { return; }
  var status = box.querySelector("[data-position-status]");
  var nearest = box.querySelector("[data-nearest]");
  var MIN_INTERVAL_MS = 20000;
  var lastSent = 0;
  var pending = null;
  var watching = null;

  function say(text) { status.textContent = text; }

  function send(position) {
    var body = new FormData();
    body.append("csrf_token", box.dataset.csrf);
    body.append("lat", String(position.coords.latitude));
    body.append("lng", String(position.coords.longitude));
    lastSent = Date.now();
    return fetch(box.dataset.positionUrl, {
      method: "POST", body: body, credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRFToken": box.dataset.csrf },
    }).then(function (response) {
      return response.json().catch(function () { return { ok: false, message: "The position could not be sent." }; });
    }).then(function (answer) {
      say(answer.message + (answer.ok ? " Updated " + new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) + "." : ""));
      if (!answer.ok) { return; }
      nearest.classList.remove("hidden");
      if (answer.arrived) { window.location.reload(); }  // checked in by position: the page changes
    }, function () { say("The position could not be sent; it will be tried again."); });
  }

  function received(position) {
    var wait = lastSent + MIN_INTERVAL_MS - Date.now();
    if (wait <= 0) { send(position); return; }
    pending = position;  // keep only the latest fix; send it when the interval allows
    window.setTimeout(function () {
      if (pending) { var latest = pending; pending = null; send(latest); }
    }, wait);
  }

  function failed(error) {
    say(error.code === error.PERMISSION_DENIED
      ? "Location is blocked for this site: allow it in the browser to find people near you."
      : "Your position is not available right now.");
  }

  button.addEventListener("click", function () {
    if (watching !== null) { return; }
    say("Finding your position…");
    button.disabled = true;
    button.textContent = "Sharing my position";
    watching = navigator.geolocation.watchPosition(received, failed, { enableHighAccuracy: true, maximumAge: 10000 });
  });
})();
