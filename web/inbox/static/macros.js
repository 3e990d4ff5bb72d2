/* Macros in the composer: type "/" in the reply box to search the workspace's macros and your own,
 * pick one, see what it will say and change (rendered for this customer, nothing stored yet), and
 * apply it in one step (the reply and the changes are one write on the server).
 *
 * Uses what static/inbox.js exposes (window.HelpdeskInbox). Everything people wrote is rendered with
 * textContent.
 */
(function () {
  "use strict";

  var inbox = window.HelpdeskInbox;
  if (!inbox) return;
  var input = document.getElementById("reply-input");
  var picker = document.getElementById("macro-picker");
  var options = document.getElementById("macro-options");
  var preview = document.getElementById("macro-preview");
  var count = document.getElementById("macro-count");
  var searchTimer = null;
  var picked = null; // { macro, kind, id }

  function el(tag, className, text) { return inbox.el(tag, className, text); }
  function query() {
    var value = input.value;
    return /^\/[^\n]*$/.test(value) ? value.slice(1).trim() : null;
  }
  function targetPath(macro) {
    var s = inbox.state;
    return "/inbox/" + s.kind + "/" + encodeURIComponent(s.selected) + "/macros/" + encodeURIComponent(macro.id) + "/apply";
  }

  function closePicker() {
    picker.hidden = true;
    options.textContent = "";
    count.textContent = "";
  }
  function closePreview() {
    preview.hidden = true;
    picked = null;
  }

  function search() {
    var q = query();
    if (q === null || !inbox.state.selected) { closePicker(); return; }
    inbox.api("GET", "/inbox/macros?q=" + encodeURIComponent(q)).then(function (page) {
      if (query() !== q) return; // the agent typed on meanwhile
      options.textContent = "";
      page.items.slice(0, 8).forEach(function (macro) { options.appendChild(option(macro)); });
      count.textContent = page.items.length ? page.items.length + (page.items.length === 1 ? " macro" : " macros") + ": arrow down to choose" : "No macro matches “" + q + "”";
      picker.hidden = false;
    }).catch(inbox.fail);
  }

  function option(macro) {
    var li = el("li");
    var button = el("button", "macro-option");
    button.type = "button";
    button.dataset.macroId = macro.id;
    button.appendChild(el("strong", null, macro.name));
    var does = [];
    if (macro.body) does.push(macro.internal ? "note" : "reply");
    if (macro.state) does.push(macro.state.replace(/_/g, " "));
    if (macro.team_id) does.push("to " + macro.team_id);
    if (macro.priority) does.push(macro.priority);
    macro.add_tags.forEach(function (t) { does.push("+" + t); });
    button.appendChild(el("span", "meta", does.join(" · ") + (macro.personal ? " · yours" : "")));
    button.addEventListener("click", function () { pick(macro); });
    button.addEventListener("keydown", function (event) { moveFocus(event, li); });
    li.appendChild(button);
    return li;
  }

  function moveFocus(event, li) {
    var next = null;
    if (event.key === "ArrowDown") next = li.nextElementSibling;
    if (event.key === "ArrowUp") next = li.previousElementSibling;
    if (event.key === "Escape") { event.preventDefault(); closePicker(); input.focus(); return; }
    if (next) { event.preventDefault(); next.querySelector("button").focus(); }
    else if (event.key === "ArrowUp") { event.preventDefault(); input.focus(); }
  }

  function pick(macro) {
    var s = inbox.state;
    closePicker();
    picked = { macro: macro, kind: s.kind, id: s.selected };
    inbox.api("POST", targetPath(macro), { preview: true }).then(function (result) {
      if (!picked || picked.macro !== macro) return;
      showPreview(macro, result);
    }).catch(function (error) { closePreview(); inbox.fail(error); });
  }

  function showPreview(macro, result) {
    document.getElementById("macro-preview-name").textContent = macro.name;
    var reply = result.reply || result.message;
    var body = document.getElementById("macro-preview-body");
    body.textContent = reply ? reply.body : "(no reply: changes only)";
    body.classList.toggle("internal", Boolean(macro.internal));
    var changes = document.getElementById("macro-preview-changes");
    changes.textContent = "";
    var lines = [];
    if (macro.internal && reply) lines.push("Posted as an internal note");
    if (result.ticket) {
      var t = result.ticket;
      if (macro.state) lines.push("State: " + t.state.label);
      if (macro.team_id) lines.push("Team: " + t.team_id);
      if (macro.priority) lines.push("Priority: " + t.priority);
      if (t.tags.length) lines.push("Tags: " + t.tags.join(", "));
    } else if (result.conversation) {
      if (macro.state) lines.push("Conversation: " + result.conversation.status);
      if (result.conversation.tags.length) lines.push("Tags: " + result.conversation.tags.join(", "));
    }
    lines.forEach(function (line) { changes.appendChild(el("li", null, line)); });
    preview.hidden = false;
    document.getElementById("macro-apply").focus();
  }

  function apply() {
    if (!picked) return;
    var macro = picked.macro;
    var s = inbox.state;
    if (s.selected !== picked.id) { closePreview(); return; }
    var button = document.getElementById("macro-apply");
    button.disabled = true;
    inbox.api("POST", targetPath(macro), { preview: false }).then(function () {
      input.value = "";
      closePreview();
      inbox.showStatus("Applied “" + macro.name + "”");
      inbox.loadDetail();
      inbox.loadList();
    }).catch(inbox.fail).then(function () { button.disabled = false; });
  }

  input.addEventListener("input", function () {
    clearTimeout(searchTimer);
    if (query() === null) { closePicker(); return; }
    searchTimer = setTimeout(search, 150);
  });
  input.addEventListener("keydown", function (event) {
    if (picker.hidden) return;
    if (event.key === "ArrowDown") {
      var first = options.querySelector("button");
      if (first) { event.preventDefault(); first.focus(); }
    } else if (event.key === "Escape") {
      event.preventDefault();
      closePicker();
    } else if (event.key === "Enter" && !event.shiftKey) {
      var only = options.querySelector("button");
      if (only) { event.preventDefault(); only.click(); }
    }
  });
  document.getElementById("macro-apply").addEventListener("click", apply);
  document.getElementById("macro-cancel").addEventListener("click", function () { closePreview(); input.focus(); });
})();
