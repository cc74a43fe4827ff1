// Live pages: an element with data-live-room subscribes to that Socket.IO room and applies
// the pushes. Thread pages insert new replies and refresh edited ones. A gap in `seq` (or a
// reconnect after missed pushes) reloads the page, which is the simplest complete catch-up.
(function () {
  "use strict";
  var root = document.querySelector("[data-live-room]");
  if (!root || !window.io || !root.dataset.socketToken) {
    return;
  }
  var room = root.dataset.liveRoom;
  var lastSeq = null;
  var socket = window.io({ auth: { token: root.dataset.socketToken }, transports: ["websocket"] });

  socket.on("connect", function () {
    socket.emit("subscribe", { room: room }, function (ack) {
      root.dataset.liveStatus = ack && ack.ok ? "subscribed" : "refused";
    });
  });

  function inOrder(event) {
    if (event.room !== room) {
      return false;
    }
    if (lastSeq !== null && event.seq !== lastSeq + 1) {
      window.location.reload();
      return false;
    }
    lastSeq = event.seq;
    return true;
  }

  function fetchPost(postId) {
    var url = root.dataset.fragmentUrl.replace(/0\/fragment$/, postId + "/fragment");
    return fetch(url, { credentials: "same-origin" }).then(function (response) {
      return response.ok ? response.text() : "";
    });
  }

  function showPost(postId, replace) {
    fetchPost(postId).then(function (html) {
      var existing = document.getElementById("post-" + postId);
      if (!html) {
        if (existing) { existing.remove(); }
        return;
      }
      var holder = document.createElement("div");
      holder.innerHTML = html.trim();  // server-rendered and sanitized
      var fresh = holder.firstElementChild;
      if (existing) {
        existing.replaceWith(fresh);
      } else if (!replace && !("morePages" in root.dataset)) {
        fresh.classList.add("post-new");
        root.appendChild(fresh);
      }
    });
  }

  socket.on("post.created", function (event) {
    if (inOrder(event)) { showPost(event.post.id, false); }
  });
  socket.on("post.updated", function (event) {
    if (inOrder(event)) { showPost(event.post.id, true); }
  });
  socket.on("thread.updated", function (event) {
    if (inOrder(event)) { window.location.reload(); }
  });
})();
