// Vote buttons: submit the vote form with fetch and update its counts in place. The form is a
// plain POST, so without JavaScript (or when this request fails) the page simply reloads.
document.addEventListener("submit", async (event) => {
  const form = event.target;
  if (!form.matches("form[data-vote-form]")) return;
  event.preventDefault();
  const button = form.querySelector("button");
  button.disabled = true;
  let response;
  try {
    response = await fetch(form.action, {
      method: "POST",
      body: new FormData(form),  // carries the form's csrf_token
      headers: { Accept: "application/json", "X-CSRFToken": form.elements.csrf_token.value },
      credentials: "same-origin",
    });
  } catch (error) {
    response = null;
  }
  if (!response || !response.ok) {
    form.submit();  // the server's page explains (a closed idea, a rate limit...)
    return;
  }
  const state = await response.json();
  form.querySelector("[data-vote-count]").textContent = state.vote_count;
  form.querySelector("[data-org-count]").textContent = state.voter_org_count;
  form.querySelector("[data-org-label]").textContent = state.voter_org_count === 1 ? "org" : "orgs";
  form.elements.vote.value = state.has_voted ? "0" : "1";
  button.classList.toggle("voted", state.has_voted);
  button.setAttribute("aria-pressed", String(state.has_voted));
  button.title = state.has_voted ? "Withdraw your vote" : "Vote for this idea";
  button.disabled = false;
});
