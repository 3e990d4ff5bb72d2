/* The inbox, live: the live channel's frames into the lists, the open conversation or ticket, and alerts.
 *
 * - New conversations and tickets appear in the views they belong to, at once, and each view shows how
 *   many items had customer activity since the agent last looked (cleared when one is opened).
 * - A message arriving in the open conversation, or a new entry on the open ticket, shows at once.
 * - The ticket form never loses what the agent is editing: a live change to a field they are editing is
 *   a notice (with "Use theirs"), never applied over their value; the other fields follow, and saving
 *   is based on the new version. The same holds while the socket is down and the page polls.
 * - Typing (the customer's; another agent's, even a note) and who else has it open show above the composer.
 * - A new assignment to the agent plays a sound and shows a browser notification (a setting, kept here).
 *
 * It plugs into inbox.js through its live hooks (window.HelpdeskInboxLive), and uses window.HelpdeskInbox.
 */
(function () {
  "use strict";

  var ALERTS_KEY = "helpdesk.assignmentAlerts";
  var AWAY_KEY = "helpdesk.chosenAway";
  var TYPING_SHOWN_MS = 5000;
  var live = null;
  var me = null;
  var unseen = {}; // view key -> {item id: true}
  var baseline = null; // the ticket form's values as last synced from the server: {field: value}
  var editing = null; // what the agent had changed when the ticket was shown again: {field: value}
  var typingTimer = null;

  function I() { return window.HelpdeskInbox; }
  function $(id) { return document.getElementById(id); }

  // --- views and their counts ----------------------------------------------------------------------

  function viewKey(button) { return button.dataset.view + "?" + button.dataset.query; }

  function viewButtons() { return Array.prototype.slice.call(document.querySelectorAll(".views button[data-view]")); }

  function matches(button, kind, item) {
    if (button.dataset.view !== kind) return false;
    var query = new URLSearchParams(button.dataset.query);
    var team = I().state.team;
    var assignee = query.get("assignee_id");
    if (assignee === "me") return item.assignee_id === me.id;
    if (assignee === "unassigned") return !item.assignee_id;
    if (query.get("tag")) return (item.tags || []).indexOf(query.get("tag")) !== -1; // tags.js: across teams
    if (item.team_id !== team) return false;
    if (query.get("status")) return item.status === query.get("status");
    if (query.get("category")) return item.state && item.state.category === query.get("category");
    if (query.get("priority")) return item.priority === query.get("priority");
    return false;
  }

  function showCounts() {
    viewButtons().forEach(function (button) {
      var count = Object.keys(unseen[viewKey(button)] || {}).length;
      var badge = button.querySelector(".count");
      if (!badge) {
        badge = I().el("span", "count");
        badge.setAttribute("aria-hidden", "true");
        button.appendChild(badge);
        var described = I().el("span", "visually-hidden");
        described.id = "count-" + viewButtons().indexOf(button);
        button.parentNode.appendChild(described);
        button.setAttribute("aria-describedby", described.id);
      }
      badge.textContent = count ? String(count) : "";
      badge.hidden = !count;
      document.getElementById(button.getAttribute("aria-describedby")).textContent = count ? count + " with new activity" : "";
    });
  }

  function noteActivity(kind, item, active) {
    viewButtons().forEach(function (button) {
      var views = unseen[viewKey(button)] = unseen[viewKey(button)] || {};
      if (!matches(button, kind, item) || item.moved_away) { delete views[item.id]; return; }
      if (active && I().state.selected !== item.id) views[item.id] = true;
    });
    showCounts();
  }

  function forget(id) {
    Object.keys(unseen).forEach(function (key) { delete unseen[key][id]; });
    showCounts();
  }

  /** The list on screen follows: an item that belongs in it appears at the top, one that left goes. */
  function placeInList(kind, item) {
    var state = I().state;
    if (state.view !== kind) return;
    var button = document.querySelector(".views button[aria-pressed=true]");
    var list = $("items");
    var shown = list.querySelector("button[data-id='" + item.id + "']");
    var belongs = button && matches(button, kind, item) && !item.moved_away;
    if (shown && !belongs) { shown.parentNode.remove(); return; }
    if (!belongs) return;
    var full = Object.assign({ customer: {}, state: {} }, item);
    var entry = I().listItem(full);
    var empty = list.querySelector("li.meta");
    if (empty) empty.remove();
    if (shown) shown.parentNode.replaceWith(entry);
    else list.insertBefore(entry, list.firstChild);
  }

  // --- alerts ------------------------------------------------------------------------------------

  function alertsOn() { try { return localStorage.getItem(ALERTS_KEY) !== "off"; } catch (e) { return true; } }

  function chime() {
    try {
      var Context = window.AudioContext || window.webkitAudioContext;
      var audio = new Context();
      [660, 880].forEach(function (frequency, index) {
        var tone = audio.createOscillator();
        var gain = audio.createGain();
        tone.frequency.value = frequency;
        gain.gain.setValueAtTime(0.0001, audio.currentTime + index * 0.18);
        gain.gain.exponentialRampToValueAtTime(0.2, audio.currentTime + index * 0.18 + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.0001, audio.currentTime + index * 0.18 + 0.16);
        tone.connect(gain).connect(audio.destination);
        tone.start(audio.currentTime + index * 0.18);
        tone.stop(audio.currentTime + index * 0.18 + 0.17);
      });
    } catch (e) { /* no sound on this device */ }
  }

  function assigned(kind, item) {
    document.body.dataset.lastAssignment = item.id;
    if (!alertsOn()) return;
    chime();
    var what = kind === "tickets" ? "Ticket #" + item.number + " " + item.title : "A conversation with " + ((item.customer && (item.customer.name || item.customer.id)) || "a customer");
    if (window.Notification && Notification.permission === "granted") {
      var note = new Notification("Assigned to you", { body: what, tag: item.id });
      note.onclick = function () { window.focus(); I().state.view = kind; note.close(); };
    }
    I().showStatus("Assigned to you: " + what);
  }

  // --- the open ticket's form ------------------------------------------------------------------------

  function formValues() {
    var values = {
      state: $("ticket-state").value,
      priority: $("ticket-priority").value,
      team_id: $("ticket-team").value,
      assignee_id: $("ticket-assignee").value.trim(),
    };
    Array.prototype.forEach.call($("ticket-attributes").querySelectorAll("[name]"), function (input) {
      values["attributes." + input.name] = input.type === "checkbox" ? String(input.checked) : input.value;
    });
    return values;
  }

  function setValue(field, value) {
    var control = field.indexOf("attributes.") === 0
      ? $("ticket-attributes").querySelector("[name='" + field.slice(11) + "']")
      : $({ state: "ticket-state", priority: "ticket-priority", team_id: "ticket-team", assignee_id: "ticket-assignee" }[field]);
    if (!control) return;
    if (control.type === "checkbox") control.checked = value === "true"; else control.value = value;
  }

  function ticketValues(ticket) {
    var values = { state: ticket.state.id, priority: ticket.priority, team_id: ticket.team_id, assignee_id: ticket.assignee_id || "" };
    Object.keys(ticket.attributes || {}).forEach(function (name) {
      var value = ticket.attributes[name];
      values["attributes." + name] = typeof value === "boolean" ? String(value) : Array.isArray(value) ? "" : String(value);
    });
    return values;
  }

  function edits() {
    if (!baseline) return {};
    var now = formValues();
    var changed = {};
    Object.keys(now).forEach(function (field) {
      if ((baseline[field] || "") !== (now[field] || "")) changed[field] = now[field];
    });
    return changed;
  }

  function label(field) {
    if (field.indexOf("attributes.") === 0) {
      var input = $("ticket-attributes").querySelector("[name='" + field.slice(11) + "']");
      return input && input.parentNode ? input.parentNode.firstChild.textContent.replace(" *", "") : field.slice(11);
    }
    return { state: "State", priority: "Priority", team_id: "Team", assignee_id: "Assignee" }[field] || field;
  }

  /** Someone changed the ticket while this agent edits it: theirs where the agent isn't editing, a notice where they are. */
  function noticeConflicts(conflicts) {
    var box = $("live-notice");
    box.textContent = "";
    var fields = Object.keys(conflicts);
    box.hidden = !fields.length;
    if (!fields.length) return;
    box.appendChild(I().el("p", null, "This ticket was just changed by someone else while you were editing it. " +
      fields.map(function (f) { return label(f) + " is now \u201c" + (conflicts[f] || "empty") + "\u201d"; }).join("; ") +
      ". Your edits are kept: saving applies them."));
    var use = I().el("button", null, "Use theirs");
    use.type = "button";
    use.addEventListener("click", function () {
      fields.forEach(function (f) { setValue(f, conflicts[f]); baseline[f] = conflicts[f]; });
      box.hidden = true;
    });
    box.appendChild(use);
  }

  function mergeTicket(ticket) {
    var state = I().state;
    var mine = edits();
    var theirs = ticketValues(ticket);
    var conflicts = {};
    Object.keys(theirs).forEach(function (field) {
      if (field in mine) {
        if ((baseline[field] || "") !== (theirs[field] || "")) conflicts[field] = theirs[field];
      } else {
        setValue(field, theirs[field]);
        baseline[field] = theirs[field];
      }
    });
    Object.keys(mine).forEach(function (field) { if (field in conflicts) baseline[field] = theirs[field]; });
    state.ticket = Object.assign({}, state.ticket, ticket);
    $("detail-title").textContent = "#" + ticket.number + " " + ticket.title + " (" + (ticket.category || state.ticket.category) + ")";
    if (Object.keys(conflicts).length) noticeConflicts(conflicts);
  }

  // --- frames ----------------------------------------------------------------------------------------

  function onFrame(frame) {
    var state = I().state;
    var data = frame.data || {};
    var changed = data.changed || [];
    switch (frame.type) {
      case "conversation.updated": {
        var fromCustomer = data.last_message ? data.last_message.author.type === "customer" : !!data.new;
        placeInList("conversations", data);
        noteActivity("conversations", data, fromCustomer);
        if ((data.new || changed.indexOf("assignee_id") >= 0) && data.assignee_id === me.id) assigned("conversations", data);
        if (state.kind === "conversations" && state.selected === data.id && !data.last_message) I().loadDetail();
        break;
      }
      case "ticket.updated":
        placeInList("tickets", data);
        noteActivity("tickets", data, !changed.length || changed.indexOf("state") >= 0);
        if ((data.new || changed.indexOf("assignee_id") >= 0) && data.assignee_id === me.id) assigned("tickets", data);
        if (state.kind === "tickets" && state.selected === data.id && !data.moved_away && state.ticket && data.version >= state.ticket.version) mergeTicket(data);
        break;
      case "message.created":
        if (state.kind === "conversations" && state.selected === data.conversation_id) {
          appendEntry(data.author.type === "customer" ? (state.customerName || "Customer") : (data.author.name || data.author.type),
            data.body, data.internal, data.author.type, data.created_at, data.id, data.attachments);
          if (data.author.type === "customer") hideTyping();
        }
        break;
      case "ticket.reply_created":
        if (state.kind === "tickets" && state.selected === data.ticket_id) {
          appendEntry(data.author.name || data.author.type, data.body || ((data.attachments || []).length ? "" : data.type), !data.visible_to_customer, data.author.type, data.created_at, data.id, data.attachments);
        }
        break;
      case "typing":
        if (state.kind === "conversations" && state.selected === data.conversation_id) showTyping(data);
        break;
      case "presence":
        if (data.viewers) showViewers(data);
        if (data.agent_id === me.id) $("availability").value = data.availability; // online while connected
        break;
      default:
        break;
    }
  }

  function appendEntry(who, body, internal, authorType, at, id, attachments) {
    var list = $("timeline");
    if (list.querySelector("[data-id='" + id + "']")) return;
    var later = Array.prototype.filter.call(list.children, function (li) { return li.dataset.id > id; })[0];
    list.insertBefore(I().timelineEntry(who, body, internal, authorType, at, attachments || [], id), later || null);
  }

  function showTyping(data) {
    var author = data.author || {};
    if (author.id === me.id) return;
    var who = author.type === "customer" ? (I().state.customerName || "The customer") : (author.name || author.id);
    $("typing").textContent = who + (data.internal ? " is writing a note…" : " is typing…");
    clearTimeout(typingTimer);
    typingTimer = setTimeout(hideTyping, TYPING_SHOWN_MS);
  }

  function hideTyping() { clearTimeout(typingTimer); $("typing").textContent = ""; }

  function showViewers(data) {
    var state = I().state;
    var id = data.conversation_id || data.ticket_id;
    if (state.selected !== id) return;
    var others = data.viewers.filter(function (v) { return v.id !== me.id; });
    $("viewers").hidden = !others.length;
    $("viewers").textContent = others.length ? "Also here: " + others.map(function (v) { return v.name || v.id; }).join(", ") + ". Mind that you don't both answer." : "";
  }

  // --- the socket --------------------------------------------------------------------------------

  function onState(state) {
    $("live-state").textContent = state === "live" ? "Live" : "Reconnecting…";
    document.body.dataset.live = state;
  }

  function connect() {
    live = new window.HelpdeskLiveSocket({
      url: I().state.config.live_url || "/live",
      token: function () { return I().state.token; },
      query: function () { return "presence=" + (sessionStorage.getItem(AWAY_KEY) === "1" ? "away" : "online"); },
      onFrame: onFrame,
      onState: onState,
      onResume: function (resumed) {
        var state = I().state;
        if (state.selected) live.watch(state.kind === "tickets" ? { ticket_id: state.selected } : { conversation_id: state.selected });
        if (resumed) { I().loadList(); I().loadDetail(); }
      },
    }).start();
  }

  $("reply-input").addEventListener("input", function () {
    var state = I().state;
    if (live && state.kind === "conversations" && state.selected) live.typing(state.selected, $("internal").checked);
  });

  $("alerts").addEventListener("change", function (event) {
    var on = event.target.checked;
    try { localStorage.setItem(ALERTS_KEY, on ? "on" : "off"); } catch (e) { /* kept for this page only */ }
    if (on && window.Notification && Notification.permission === "default") Notification.requestPermission();
  });

  window.HelpdeskInboxLive = {
    signedIn: function (agent) {
      me = agent;
      $("alerts").checked = alertsOn();
      unseen = {};
      showCounts();
      if (window.HelpdeskLiveSocket && !live) connect();
    },
    signedOut: function () { if (live) live.stop(); live = null; me = null; },
    isLive: function () { return !!live && live.isLive() || (!!live && !window.HelpdeskLiveSocket.pollingAllowed()); },
    availabilityChosen: function (value) { sessionStorage.setItem(AWAY_KEY, value === "away" ? "1" : "0"); },
    viewSelected: function () { showCounts(); },
    opened: function (kind, id) {
      forget(id);
      hideTyping();
      $("viewers").hidden = true;
      $("live-notice").hidden = true;
      baseline = null;
      if (live) live.watch(kind === "tickets" ? { ticket_id: id } : { conversation_id: id });
    },
    conversationShown: function (conversation) { I().state.customerName = conversation.customer.name; },
    beforeShowTicket: function (ticket) {
      var state = I().state;
      var same = state.ticket && state.ticket.id === ticket.id && baseline;
      editing = same ? edits() : null;
      editing = editing && Object.keys(editing).length ? editing : null;
      if (editing) editing.__focus = document.activeElement && document.activeElement.id ? "#" + document.activeElement.id
        : document.activeElement && document.activeElement.name ? "[name='" + document.activeElement.name + "']" : null;
      if (!same) $("live-notice").hidden = true;
    },
    ticketShown: function (ticket) {
      var previous = baseline;
      baseline = ticketValues(ticket);
      if (!editing) return;
      var focus = editing.__focus;
      delete editing.__focus;
      var conflicts = {};
      Object.keys(editing).forEach(function (field) {
        setValue(field, editing[field]);
        if (previous && (previous[field] || "") !== (baseline[field] || "")) conflicts[field] = baseline[field];
      });
      if (Object.keys(conflicts).length) noticeConflicts(conflicts);
      var control = focus ? document.querySelector(focus) : null;
      if (control) control.focus();
      editing = null;
    },
  };
})();
