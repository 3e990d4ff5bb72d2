/* Keyboard shortcuts and the phone layout of the inbox.
 *
 * Shortcuts (not while typing in a field): j / k next / previous item of the list, r reply, n internal
 * note, a assign, c close (a conversation; on a ticket, pick its resolved state to save), p the
 * customer profile, ? this help, Escape leaves a field or closes the help.
 *
 * On a narrow screen the list and the open conversation or ticket are separate screens
 * (body[data-screen] = list | detail): opening an item shows it, "Back to the list" returns.
 */
(function () {
  "use strict";

  var SHORTCUTS = [
    ["j", "Next item in the list"], ["k", "Previous item in the list"], ["r", "Reply to the customer"],
    ["n", "Write an internal note"], ["a", "Assign (pick an agent)"],
    ["c", "Close the conversation (on a ticket: choose its resolved state, then Save)"],
    ["p", "Show or hide the customer profile"], ["?", "Show or hide this help"], ["Esc", "Leave a field, close this help"],
  ];

  function $(id) { return document.getElementById(id); }
  function inbox() { return window.HelpdeskInbox; }

  // --- the phone's two screens --------------------------------------------------------------------

  function screen(name) {
    document.body.dataset.screen = name;
    if (name === "list") {
      var current = document.querySelector("#items button[aria-current='true']") || document.querySelector("#items button");
      if (current) current.focus({ preventScroll: false });
    } else {
      window.scrollTo(0, 0);
    }
  }
  screen("list");
  $("items").addEventListener("click", function (event) {
    if (event.target.closest("button")) screen("detail");
  });
  $("back-to-list").addEventListener("click", function () { screen("list"); });

  // --- the help overlay ---------------------------------------------------------------------------

  var help = document.createElement("dialog");
  help.id = "shortcuts";
  help.className = "shortcuts";
  help.setAttribute("aria-labelledby", "shortcuts-title");
  var title = document.createElement("h2");
  title.id = "shortcuts-title";
  title.textContent = "Keyboard shortcuts";
  help.appendChild(title);
  var list = document.createElement("dl");
  SHORTCUTS.forEach(function (pair) {
    var key = document.createElement("dt");
    var kbd = document.createElement("kbd");
    kbd.textContent = pair[0];
    key.appendChild(kbd);
    var what = document.createElement("dd");
    what.textContent = pair[1];
    list.appendChild(key);
    list.appendChild(what);
  });
  help.appendChild(list);
  var close = document.createElement("button");
  close.type = "button";
  close.textContent = "Close";
  close.addEventListener("click", function () { help.close(); });
  help.appendChild(close);
  document.body.appendChild(help);

  function toggleHelp() { if (help.open) help.close(); else help.showModal(); }

  // --- the shortcuts ------------------------------------------------------------------------------

  function move(step) {
    var buttons = Array.prototype.slice.call(document.querySelectorAll("#items button"));
    if (!buttons.length) return;
    var at = buttons.findIndex(function (b) { return b.getAttribute("aria-current") === "true"; });
    var next = buttons[Math.max(0, Math.min(buttons.length - 1, at === -1 ? 0 : at + step))];
    next.focus();
    next.click();
  }

  function compose(internal) {
    if ($("detail").hidden) return;
    $("internal").checked = internal;
    $("reply-input").focus();
  }

  function assign() {
    var kind = inbox().state.kind;
    var target = kind === "tickets" ? $("ticket-assignee") : $("assign-agent");
    if (!$("detail").hidden && target) target.focus();
  }

  function closeItem() {
    var state = inbox().state;
    if ($("detail").hidden) return;
    if (state.kind === "conversations") { $("close-conversation").click(); return; }
    var ticket = state.ticket;
    var type = ticket && state.types[ticket.ticket_type_id];
    var resolved = type && type.states.filter(function (s) { return s.category === "resolved"; })[0];
    if (!resolved) return;
    $("ticket-state").value = resolved.id;
    $("ticket-save").focus();
    inbox().showStatus("State set to " + resolved.label + ": press Enter to save.");
  }

  var ACTIONS = {
    j: function () { move(1); }, k: function () { move(-1); }, r: function () { compose(false); },
    n: function () { compose(true); }, a: assign, c: closeItem,
    p: function () { if (window.InboxProfile) window.InboxProfile.toggle(); }, "?": toggleHelp,
  };

  document.addEventListener("keydown", function (event) {
    if ($("app").hidden || event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    var typing = target && (/INPUT|TEXTAREA|SELECT/.test(target.tagName) || target.isContentEditable);
    if (event.key === "Escape" && typing) { target.blur(); return; }
    if (typing) return;
    if (help.open && event.key !== "?") return;
    var action = ACTIONS[event.key];
    if (!action) return;
    event.preventDefault();
    action();
  });

  window.InboxKeys = { screen: screen, help: toggleHelp };
})();
