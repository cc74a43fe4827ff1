// The composer, on top of a plain textarea that works without it: a Markdown toolbar, a live
// preview rendered by the server (so it shows exactly what posting will), @ autocomplete of
// members who can read the thread, drafts kept in this browser until the post is sent,
// quote-reply of a selected passage, and images pasted or dropped in (uploaded at once).
(function () {
  "use strict";

  function post(url, body, csrfToken) {
    body.append("csrf_token", csrfToken);
    return fetch(url, { method: "POST", body: body, credentials: "same-origin",
                        headers: { Accept: "application/json, text/html", "X-CSRFToken": csrfToken } });
  }

  function errorText(response) {
    return response.json().then(function (answer) {
      var error = answer.error || {};
      var fields = error.fields || {};
      return Object.keys(fields).map(function (k) { return fields[k]; }).join(" ") || error.message;
    }, function () { return "Something went wrong (" + response.status + ")."; });
  }

  function setUp(root) {
    var area = root.querySelector("textarea");
    var form = area.form;
    var toolbar = root.querySelector(".composer-toolbar");
    var preview = root.querySelector(".composer-preview");
    var suggestions = root.querySelector(".mention-suggestions");
    var status = root.querySelector("[data-composer-status]");
    var fileInput = root.querySelector("input[type=file]");
    var csrfToken = root.dataset.csrfToken;
    var draftKey = "roundtable:draft:" + root.dataset.draftKey;
    toolbar.hidden = false;

    function say(text) { status.textContent = text; }

    // Editing: replace the selection and keep the caret where one expects it.
    function replaceSelection(before, after, placeholder) {
      var start = area.selectionStart, end = area.selectionEnd;
      var chosen = area.value.slice(start, end) || placeholder || "";
      area.setRangeText(before + chosen + after, start, end, "end");
      if (!area.value.slice(start, end).length && placeholder) {
        area.setSelectionRange(start + before.length, start + before.length + chosen.length);
      }
      area.focus();
      area.dispatchEvent(new Event("input"));
    }

    function prefixLines(prefix) {
      var start = area.value.lastIndexOf("\n", area.selectionStart - 1) + 1;
      var end = area.selectionEnd;
      var lines = area.value.slice(start, end).split("\n").map(function (line) { return prefix + line; });
      area.setRangeText(lines.join("\n"), start, end, "end");
      area.focus();
      area.dispatchEvent(new Event("input"));
    }

    function insertBlock(text) {
      var start = area.selectionStart;
      var before = area.value.slice(0, start);
      var gap = before && !/\n\n$/.test(before) ? (/\n$/.test(before) ? "\n" : "\n\n") : "";
      area.setRangeText(gap + text + "\n\n", start, area.selectionEnd, "end");
      area.dispatchEvent(new Event("input"));
    }

    var tools = {
      bold: function () { replaceSelection("**", "**", "bold text"); },
      italic: function () { replaceSelection("*", "*", "italic text"); },
      link: function () { replaceSelection("[", "](https://)", "link text"); },
      code: function () {
        var chosen = area.value.slice(area.selectionStart, area.selectionEnd);
        if (chosen.indexOf("\n") !== -1) { replaceSelection("```\n", "\n```", ""); }
        else { replaceSelection("`", "`", "code"); }
      },
      quote: function () { prefixLines("> "); },
      list: function () { prefixLines("- "); },
      preview: function (button) {
        var on = button.getAttribute("aria-pressed") !== "true";
        button.setAttribute("aria-pressed", on ? "true" : "false");
        preview.hidden = !on;
        if (on) { refreshPreview(); }
      },
    };
    toolbar.addEventListener("click", function (event) {
      var button = event.target.closest("[data-tool]");
      if (button) { tools[button.dataset.tool](button); }
    });
    area.addEventListener("keydown", function (event) {
      if (!(event.ctrlKey || event.metaKey)) { return; }
      var shortcut = { b: "bold", i: "italic", k: "link" }[event.key.toLowerCase()];
      if (shortcut) { event.preventDefault(); tools[shortcut](); }
      if (event.key === "Enter" && form.reportValidity()) { event.preventDefault(); form.requestSubmit(); }
    });

    // Preview: what the server's renderer makes of it, refreshed as one pauses typing.
    var previewTimer = null;
    function refreshPreview() {
      if (preview.hidden) { return; }
      if (!area.value.trim()) { preview.innerHTML = "<p class=\"muted\">Nothing to preview yet.</p>"; return; }
      var body = new FormData();
      body.append("body", area.value);
      post(root.dataset.previewUrl, body, csrfToken).then(function (response) {
        if (response.ok) {
          return response.text().then(function (html) { preview.innerHTML = html; });  // sanitized by the server
        }
        return errorText(response).then(say);
      });
    }

    // Drafts: kept in this browser as one types, restored after a reload, gone once posted.
    var draftTimer = null;
    function saveDraft() {
      try {
        if (area.value.trim()) { localStorage.setItem(draftKey, area.value); }
        else { localStorage.removeItem(draftKey); }
      } catch (e) { /* storage full or disabled: no drafts */ }
    }
    try {
      var draft = localStorage.getItem(draftKey);
      if (draft && !area.value.trim()) {
        area.value = draft;
        say("Draft restored: you had started writing this.");
      }
    } catch (e) { /* no storage */ }
    form.addEventListener("submit", function () {
      window.clearTimeout(draftTimer);
      try { localStorage.removeItem(draftKey); } catch (e) { /* no storage */ }
    });

    area.addEventListener("input", function () {
      window.clearTimeout(draftTimer);
      draftTimer = window.setTimeout(saveDraft, 300);
      window.clearTimeout(previewTimer);
      previewTimer = window.setTimeout(refreshPreview, 400);
      lookUpMention();
    });

    // @ autocomplete: members who can read what is being written.
    var choices = [], active = -1, mentionAt = -1, lookup = 0;
    function closeSuggestions() {
      suggestions.hidden = true;
      suggestions.innerHTML = "";
      choices = []; active = -1;
      area.removeAttribute("aria-activedescendant");
    }
    function highlight(index) {
      active = index;
      Array.prototype.forEach.call(suggestions.children, function (item, i) {
        item.setAttribute("aria-selected", i === index ? "true" : "false");
      });
      area.setAttribute("aria-activedescendant", suggestions.id + "-" + index);
    }
    function choose(index) {
      var handle = choices[index].handle;
      area.setRangeText("@" + handle + " ", mentionAt, area.selectionStart, "end");
      closeSuggestions();
      area.focus();
      area.dispatchEvent(new Event("input"));
    }
    function lookUpMention() {
      var before = area.value.slice(0, area.selectionStart);
      var match = /(^|[^\w@.+-])@([A-Za-z0-9_]{1,32})$/.exec(before);
      if (!match) { closeSuggestions(); return; }
      mentionAt = area.selectionStart - match[2].length - 1;
      var ticket = ++lookup;
      var url = root.dataset.mentionUrl + (root.dataset.mentionUrl.indexOf("?") === -1 ? "?" : "&") +
        "q=" + encodeURIComponent(match[2]);
      fetch(url, { credentials: "same-origin" }).then(function (r) { return r.ok ? r.json() : { items: [] }; })
        .then(function (answer) {
          if (ticket !== lookup) { return; }
          choices = answer.items;
          if (!choices.length) { closeSuggestions(); return; }
          suggestions.innerHTML = "";
          choices.forEach(function (person, i) {
            var item = document.createElement("li");
            item.id = suggestions.id + "-" + i;
            item.setAttribute("role", "option");
            item.textContent = "@" + person.handle + " · " + person.display_name +
              (person.organization ? " (" + person.organization + ")" : "");
            item.addEventListener("mousedown", function (event) { event.preventDefault(); choose(i); });
            suggestions.appendChild(item);
          });
          suggestions.hidden = false;
          highlight(0);
        });
    }
    area.addEventListener("keydown", function (event) {
      if (suggestions.hidden) { return; }
      if (event.key === "ArrowDown") { event.preventDefault(); highlight((active + 1) % choices.length); }
      else if (event.key === "ArrowUp") { event.preventDefault(); highlight((active + choices.length - 1) % choices.length); }
      else if (event.key === "Enter" || event.key === "Tab") { event.preventDefault(); choose(active); }
      else if (event.key === "Escape") { event.preventDefault(); closeSuggestions(); }
    });
    area.addEventListener("blur", function () { window.setTimeout(closeSuggestions, 150); });

    // Images pasted, dropped or chosen are uploaded at once and shown where the caret is.
    function upload(file) {
      var body = new FormData();
      body.append("file", file, file.name || "pasted-image.png");
      say("Uploading " + (file.name || "image") + "…");
      return post(root.dataset.uploadUrl, body, csrfToken).then(function (response) {
        if (!response.ok) { return errorText(response).then(say); }
        return response.json().then(function (stored) {
          insertBlock(stored.markdown);
          say("Uploaded " + stored.filename + ".");
        });
      }, function () { say("The upload failed: check your connection and try again."); });
    }
    area.addEventListener("paste", function (event) {
      var files = Array.prototype.filter.call((event.clipboardData || {}).files || [], function (f) {
        return /^image\//.test(f.type);
      });
      if (files.length) { event.preventDefault(); files.forEach(upload); }
    });
    area.addEventListener("dragover", function (event) {
      if (event.dataTransfer && Array.prototype.indexOf.call(event.dataTransfer.types, "Files") !== -1) {
        event.preventDefault();
        root.classList.add("composer-dropping");
      }
    });
    area.addEventListener("dragleave", function () { root.classList.remove("composer-dropping"); });
    area.addEventListener("drop", function (event) {
      root.classList.remove("composer-dropping");
      var files = event.dataTransfer ? event.dataTransfer.files : [];
      if (files.length) { event.preventDefault(); Array.prototype.forEach.call(files, upload); }
    });
    if (fileInput) {
      fileInput.addEventListener("change", function () {
        var files = Array.prototype.slice.call(fileInput.files);
        fileInput.value = "";  // uploaded now: the form must not send it again
        files.forEach(upload);
      });
    }

    return { area: area, insertBlock: insertBlock };
  }

  var composers = Array.prototype.map.call(document.querySelectorAll("[data-composer]"), setUp);

  // Quote-reply: select a passage of a post, then "Quote" puts it in the reply box.
  var reply = document.getElementById("reply-body");
  var replyComposer = composers.filter(function (c) { return c.area === reply; })[0];
  if (!replyComposer) { return; }
  var quoteButton = document.createElement("button");
  quoteButton.type = "button";
  quoteButton.className = "button quote-button";
  quoteButton.textContent = "Quote";
  quoteButton.hidden = true;
  document.body.appendChild(quoteButton);
  var quoted = null;
  document.addEventListener("selectionchange", function () {
    var selection = window.getSelection();
    var text = selection && selection.rangeCount ? selection.toString().trim() : "";
    var node = text ? selection.getRangeAt(0).commonAncestorContainer : null;
    var body = node && (node.nodeType === 1 ? node : node.parentElement).closest(".post-body");
    var article = body && body.closest("article.post");
    if (!article) { if (document.activeElement !== quoteButton) { quoteButton.hidden = true; } return; }
    var box = selection.getRangeAt(0).getBoundingClientRect();
    quoted = { text: text, author: article.querySelector(".post-author").textContent.trim(), id: article.id };
    quoteButton.style.top = (window.scrollY + box.bottom + 6) + "px";
    quoteButton.style.left = Math.max(8, Math.min(window.scrollX + box.left, window.innerWidth - 100)) + "px";
    quoteButton.hidden = false;
  });
  quoteButton.addEventListener("click", function () {
    if (!quoted) { return; }
    var lines = quoted.text.split("\n").map(function (line) { return "> " + line; }).join("\n");
    reply.focus();
    reply.setSelectionRange(reply.value.length, reply.value.length);
    replyComposer.insertBlock(quoted.author + " [wrote](#" + quoted.id + "):\n" + lines);
    quoteButton.hidden = true;
  });
})();
