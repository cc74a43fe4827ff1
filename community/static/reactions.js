// Reactions without leaving the page: a click sends the reaction form in the background and
// shows the counts the server answers; pushes (static/live.js) keep everyone's counts current.
(function () {
  "use strict";

  function show(postId, counts, mine) {
    var group = document.querySelector('[data-reactions-for="' + postId + '"]');
    if (!group) { return; }
    group.querySelectorAll("[data-reaction]").forEach(function (item) {
      var count = counts[item.dataset.reaction] || 0;
      item.querySelector("[data-count]").textContent = count ? String(count) : "";
      if (item.tagName !== "BUTTON") { item.hidden = !count; }  // shown, not offered: only when chosen
      if (mine && item.tagName === "BUTTON") {
        var chosen = mine.indexOf(item.dataset.reaction) !== -1;
        item.setAttribute("aria-pressed", chosen ? "true" : "false");
        item.form.elements.on.value = chosen ? "0" : "1";
      }
    });
  }
  window.roundtableReactions = { show: show };

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches("[data-reaction-form]")) { return; }
    event.preventDefault();
    var postId = form.closest("[data-reactions-for]").dataset.reactionsFor;
    fetch(form.action, {
      method: "POST", body: new FormData(form), credentials: "same-origin", headers: { Accept: "application/json" },
    }).then(function (response) {
      return response.ok ? response.json() : null;
    }).then(function (answer) {
      if (answer) { show(postId, answer.reactions, answer.mine); }
    });
  });
})();
