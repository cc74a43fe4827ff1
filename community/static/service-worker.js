// Roundtable's service worker: shows pushed notifications while no Roundtable tab is open, and
// opens the page a notification is about when it is clicked. The payload arrives decrypted
// (RFC 8291) as {type, notification_id, kind, title, body, url, count}.
"use strict";

self.addEventListener("push", function (event) {
  var data = {};
  try { data = event.data ? event.data.json() : {}; } catch (error) { data = {}; }
  if (data.type !== "notification") { return; }
  event.waitUntil(self.registration.showNotification(data.title || "Roundtable", {
    body: data.body || "",
    // One notification per Roundtable notification: a later push (more replies) replaces it.
    tag: "notification-" + data.notification_id,
    renotify: true,
    icon: "/static/favicon.svg",
    data: { url: data.url || "/notifications" },
  }));
});

self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  var url = new URL(event.notification.data.url, self.location.origin);
  if (url.origin !== self.location.origin) { url = new URL("/notifications", self.location.origin); }
  event.waitUntil(self.clients.matchAll({ type: "window", includeUncontrolled: true }).then(function (tabs) {
    for (var i = 0; i < tabs.length; i += 1) {
      if (tabs[i].url === url.href && "focus" in tabs[i]) { return tabs[i].focus(); }
    }
    return self.clients.openWindow(url.href);
  }));
});
