/* The header's phone menu and the "Staff" group. Without this script the navigation simply shows
   in full (it wraps on a phone) and the group opens and closes as a plain <details>. */
document.documentElement.classList.add("js");

// Listened for on the document from the start, so a tap on Menu counts even before the page
// has finished loading.
document.addEventListener("click", function (event) {
  var toggle = event.target.closest(".menu-toggle");
  var nav = document.getElementById("site-nav");
  if (toggle && nav) {
    var open = toggle.getAttribute("aria-expanded") !== "true";
    toggle.setAttribute("aria-expanded", String(open));
    nav.classList.toggle("open", open);
  }
});

document.addEventListener("DOMContentLoaded", function () {
  // An open group closes when one clicks elsewhere or presses Escape, as menus do.
  function closeGroups(except) {
    document.querySelectorAll(".nav-group[open]").forEach(function (group) {
      if (group !== except) group.open = false;
    });
  }
  document.addEventListener("click", function (event) {
    closeGroups(event.target.closest(".nav-group"));
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") closeGroups(null);
  });
});
