// Live pages. An element with data-live-room subscribes to that Socket.IO room (with the page's
// socket-only token) and applies the pushes for its data-live-kind:
//   thread: insert new replies and refresh edited ones (server-rendered fragments);
//   idea:   update the vote counts; on a status change, refresh the idea and its official answer;
//   event:  refresh the attendee list and counts as people check in, move and leave, and the
//           agenda when staff change it.
// A gap in `seq` means pushes were missed: the page reloads, the simplest complete catch-up.
// A page being left (a form sent, a link followed) never reloads or fetches itself: that would
// cancel the navigation, or use up the answer to the form (a staff member's own change is pushed
// to them too).
(function () {
  "use strict";
  var root = document.querySelector("[data-live-room]");
  if (!root || !window.io || !root.dataset.socketToken) {
    return;
  }
  var room = root.dataset.liveRoom;
  var lastSeq = null;
  var leaving = false;
  window.addEventListener("beforeunload", function () { leaving = true; });

  function reload() {
    if (!leaving) { window.location.reload(); }
  }

  var socket = window.io({ auth: { token: root.dataset.socketToken }, transports: ["websocket"] });

  socket.on("connect", function () {
    socket.emit("subscribe", { room: room }, function (ack) {
      root.dataset.liveStatus = ack && ack.ok ? "subscribed" : "refused";
    });
  });

  function on(eventType, apply) {
    socket.on(eventType, function (event) {
      if (event.room !== room) { return; }
      if (lastSeq !== null && event.seq !== lastSeq + 1) {
        reload();
        return;
      }
      lastSeq = event.seq;
      apply(event);
    });
  }

  // Nothing is fetched once the page is being left: rendering this page afresh would use up the
  // message (a flash) that the next page is about to show.
  function fetchText(url) {
    if (leaving) { return Promise.resolve(""); }
    return fetch(url, { credentials: "same-origin" }).then(function (response) {
      return response.ok ? response.text() : "";
    });
  }

  // Fetch this page afresh and swap in the content of the elements with these ids.
  function refreshParts(ids) {
    fetchText(window.location.href).then(function (html) {
      if (!html) { return; }
      var page = new DOMParser().parseFromString(html, "text/html");
      ids.forEach(function (id) {
        var mine = document.getElementById(id);
        var theirs = page.getElementById(id);
        if (mine && theirs) { mine.innerHTML = theirs.innerHTML; }
      });
    });
  }

  // Screen readers hear what arrives (the base page's aria-live region).
  var announcer = document.getElementById("live-announcer");
  function announce(text) {
    if (announcer) { announcer.textContent = text; }
  }

  var kinds = {
    thread: function () {
      function showPost(postId, replace) {
        fetchText(root.dataset.fragmentUrl.replace(/0\/fragment$/, postId + "/fragment")).then(function (html) {
          var existing = document.getElementById("post-" + postId);
          if (!html) {
            if (existing) { existing.remove(); }
            return;
          }
          var holder = document.createElement("div");
          holder.innerHTML = html.trim();  // rendered and sanitized by the server
          var fresh = holder.firstElementChild;
          if (existing) {
            existing.replaceWith(fresh);
          } else if (!replace && !("morePages" in root.dataset)) {
            fresh.classList.add("post-new");
            root.appendChild(fresh);
          }
        });
      }
      on("post.created", function (event) {
        showPost(event.post.id, false);
        announce("New reply from " + ((event.post.author || {}).display_name || "a member") + ".");
      });
      on("post.reactions_changed", function (event) {
        if (window.roundtableReactions) { window.roundtableReactions.show(event.post_id, event.reactions); }
        announce("Reactions changed on a post.");
      });
      on("post.updated", function (event) { showPost(event.post.id, true); });
      on("thread.updated", reload);
    },
    idea: function () {
      on("idea.vote_changed", function (event) {
        announce("Votes now " + event.vote_count + ".");
        root.querySelectorAll("[data-vote-count]").forEach(function (el) { el.textContent = event.vote_count; });
        root.querySelectorAll("[data-org-count]").forEach(function (el) { el.textContent = event.voter_org_count; });
        root.querySelectorAll("[data-org-label]").forEach(function (el) {
          el.textContent = event.voter_org_count === 1 ? "org" : "orgs";
        });
      });
      on("idea.status_changed", function (event) {
        refreshParts(["idea", "official-answer"]);
        announce("Status changed to " + String(event.status).replace("_", " ") + ".");
      });
    },
    event: function () {
      function refresh() {
        refreshParts(["attendees", "attendee-counts", "attendee-total"]);
        announce("The attendee list changed.");
      }
      ["checkin.created", "checkin.updated", "checkin.removed"].forEach(function (type) { on(type, refresh); });
      on("agenda.changed", function () { refreshParts(["agenda"]); });
    },
  };
  (kinds[root.dataset.liveKind] || function () {})();
})();
