// Reading state on a thread page: the member's place moves forward as posts scroll into view
// (a post counts as read once it has been on screen), sent at most once a second. On opening,
// the page scrolls to the first post that is new since the member's last visit.
(function () {
  "use strict";
  var posts = document.getElementById("posts");
  if (!posts || !posts.dataset.readUrl || !("IntersectionObserver" in window)) {
    return;
  }
  var sentUpTo = Number(posts.dataset.readUpTo) || 0;
  var seenUpTo = sentUpTo;
  var timer = null;

  function send() {
    timer = null;
    if (seenUpTo <= sentUpTo) { return; }
    var upTo = seenUpTo;
    var body = new FormData();
    body.append("post_id", String(upTo));
    body.append("csrf_token", posts.dataset.csrfToken);
    fetch(posts.dataset.readUrl, {
      method: "POST", body: body, credentials: "same-origin", headers: { Accept: "application/json" },
    }).then(function (response) {
      if (response.ok && upTo > sentUpTo) { sentUpTo = upTo; }
    }).catch(function () { /* offline: the next post seen tries again */ });
  }

  var observer = new IntersectionObserver(function (entries) {
    entries.forEach(function (entry) {
      if (!entry.isIntersecting) { return; }
      var id = Number(entry.target.dataset.postId);
      observer.unobserve(entry.target);
      if (id > seenUpTo) { seenUpTo = id; }
    });
    if (seenUpTo > sentUpTo && timer === null) { timer = window.setTimeout(send, 1000); }
  }, { threshold: 0.5 });

  function watch(article) {
    if (article.dataset && article.dataset.postId) { observer.observe(article); }
  }
  posts.querySelectorAll("article[data-post-id]").forEach(watch);
  // Replies that arrive live (static/live.js) are read when they come into view too.
  new MutationObserver(function (changes) {
    changes.forEach(function (change) { change.addedNodes.forEach(watch); });
  }).observe(posts, { childList: true });
  window.addEventListener("pagehide", send);

  var firstUnread = document.getElementById("first-unread");
  if (firstUnread && !window.location.hash) {
    firstUnread.scrollIntoView({ block: "start" });
  }
})();
