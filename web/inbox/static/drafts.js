/* Converting a conversation starts from a draft: when the agent opens "Convert into a ticket" (or picks
 * another type), GET /inbox/conversations/{id}/ticket-draft fills the title and the attributes it
 * found, each marked with where it came from, for the agent to check before creating the ticket.
 * Fields the agent already typed in are left alone.
 */
(function () {
  "use strict";

  var SOURCES = {
    bot: "collected by the bot", context: "what the customer was looking at", conversation: "the customer's words",
    email_subject: "the email's subject", ticket_type: "the ticket type",
  };

  function $(id) { return document.getElementById(id); }
  function inbox() { return window.HelpdeskInbox; }

  function clearHints() {
    document.querySelectorAll("#convert-attributes .draft-hint").forEach(function (hint) { hint.remove(); });
    $("convert-draft-note").hidden = true;
  }

  function fill(draft) {
    var title = $("convert-title");
    if (!title.dataset.typed) title.value = draft.title;
    var filled = [];
    Object.keys(draft.attributes).forEach(function (name) {
      var input = document.querySelector("#convert-attributes [name='" + name + "']");
      var found = draft.attributes[name];
      if (!input || input.value) return;
      if (input.type === "checkbox") input.checked = !!found.value; else input.value = found.value;
      var hint = inbox().el("span", "draft-hint", "Suggested from " + SOURCES[found.source] + (found.quote ? ": “" + found.quote + "”" : "") + ". Please check.");
      input.insertAdjacentElement("afterend", hint);
      filled.push(name);
    });
    var note = $("convert-draft-note");
    note.textContent = "Title from " + SOURCES[draft.title_source] + (filled.length ? "; " + filled.length + " field" + (filled.length === 1 ? "" : "s") + " suggested" : "") + ". Check them before creating the ticket.";
    note.hidden = false;
  }

  function load() {
    var state = inbox().state;
    if (!$("convert").open || state.kind !== "conversations" || !state.selected) return;
    clearHints();
    var type = $("convert-type").value;
    inbox().api("GET", "/inbox/conversations/" + encodeURIComponent(state.selected) + "/ticket-draft?ticket_type_id=" + encodeURIComponent(type))
      .then(fill).catch(inbox().fail);
  }

  $("convert-title").addEventListener("input", function (event) { event.target.dataset.typed = event.target.value ? "true" : ""; });
  $("convert").addEventListener("toggle", function () { if ($("convert").open) { delete $("convert-title").dataset.typed; load(); } });
  $("convert-type").addEventListener("change", load);
})();
