// Times marked data-relative read as people say them ("5 minutes ago"), refreshed each minute; hovering (or focusing)
// shows the exact time in the reader's own time zone. Pages render the exact UTC time, which is
// what stays without JavaScript.
(function () {
  "use strict";
  if (!window.Intl || !Intl.RelativeTimeFormat) { return; }
  var relative = new Intl.RelativeTimeFormat(document.documentElement.lang || "en", { numeric: "auto" });
  var exact = new Intl.DateTimeFormat(undefined, { year: "numeric", month: "short", day: "numeric", hour: "2-digit",
                                                    minute: "2-digit", timeZoneName: "short" });
  var steps = [["year", 31536000], ["month", 2592000], ["week", 604800], ["day", 86400], ["hour", 3600],
               ["minute", 60]];

  function say(seconds) {
    for (var i = 0; i < steps.length; i++) {
      if (Math.abs(seconds) >= steps[i][1]) {
        return relative.format(Math.round(seconds / steps[i][1]), steps[i][0]);
      }
    }
    return "just now";
  }

  function refresh() {
    var now = Date.now();
    document.querySelectorAll("time[data-relative]").forEach(function (element) {
      var when = new Date(element.getAttribute("datetime"));
      if (isNaN(when)) { return; }
      var text = say((when.getTime() - now) / 1000), title = exact.format(when);
      // Only real changes: writing the same text would wake the observer below for nothing.
      if (element.textContent !== text) { element.textContent = text; }
      if (element.title !== title) { element.title = title; }
    });
  }
  refresh();
  window.setInterval(refresh, 60000);
  // Posts that arrive live carry times too.
  new MutationObserver(function (changes) {
    var arrived = changes.some(function (change) {
      return Array.prototype.some.call(change.addedNodes, function (node) { return node.nodeType === 1; });
    });
    if (arrived) { refresh(); }
  }).observe(document.body, { childList: true, subtree: true });
})();
