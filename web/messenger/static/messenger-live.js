/* The messenger, live: frames from the live channel into the open conversation, the open ticket and the home.
 *
 * While the socket is up nothing polls; while it is down the page polls (the conversation every 2 s,
 * the open ticket and the home every few seconds), and when it comes back the page catches up from
 * its cursors (messages after the last one shown; the ticket and the lists read again), so nothing
 * said meanwhile is lost. Agents typing show for a few seconds; the customer's typing is sent, at
 * most every 3 s, to the agents who have the conversation open.
 */
(function () {
  "use strict";

  var TYPING_SHOWN_MS = 5000;
  var DOWN_POLL_MS = 5000;
  var live = null;
  var typingTimer = null;
  var downTimer = null;

  function page() { return window.HelpdeskMessengerPage; }
  function home() { return window.HelpdeskHome; }
  function $(id) { return document.getElementById(id); }

  function later(a, b) { return !a || (b && b > a) ? b : a; }

  // --- frames --------------------------------------------------------------------------------------

  function onFrame(frame) {
    var state = page().state;
    var data = frame.data || {};
    switch (frame.type) {
      case "message.created":
        if (data.conversation_id === state.shownId) {
          page().renderMessage(data);
          if (data.conversation_id === state.conversationId) state.cursor = later(state.cursor, data.id);
          if (data.author && data.author.type !== "customer") hideTyping();
        }
        home().messageArrived(data);
        break;
      case "conversation.updated":
        home().conversationChanged(data);
        if (data.id === state.conversationId && data.status === "closed") { state.conversationId = null; state.cursor = null; }
        break;
      case "ticket.updated":
        home().ticketChanged(data);
        if (data.id === state.openTicketId) showTicketChange(data);
        break;
      case "ticket.reply_created":
        if (data.ticket_id === state.openTicketId) addTimelineEntry(data);
        break;
      case "typing":
        if (data.conversation_id === state.shownId) showTyping(data.author);
        break;
      case "unread":
        home().unreadChanged(data);
        break;
      default:
        break;
    }
  }

  function showTicketChange(ticket) {
    $("ticket-state").textContent = ticket.state.label;
    $("ticket-updated").textContent = "Updated just now";
    var attributes = $("ticket-attributes");
    attributes.textContent = "";
    Object.keys(ticket.attributes || {}).forEach(function (name) {
      var value = ticket.attributes[name];
      attributes.appendChild(page().el("dt", null, name.replace(/_/g, " ")));
      attributes.appendChild(page().el("dd", null, Array.isArray(value) ? value.length + " file(s)" : value));
    });
    var resolved = ticket.state.category === "resolved";
    $("csat").hidden = !resolved || !!ticket.rating;
  }

  function addTimelineEntry(part) {
    var timeline = $("ticket-timeline");
    if (timeline.querySelector("[data-part-id='" + part.id + "']")) return;
    var P = page();
    var item = P.el("li");
    item.dataset.partId = part.id;
    var who = part.author.type === "customer" ? "You" : (part.author.name || "Support");
    item.appendChild(P.el("span", "when", P.formatTime(part.created_at) + " · " + who));
    item.appendChild(P.el("span", "body", P.describePart(part)));
    (part.attachments || []).forEach(function (a) { item.appendChild(document.createElement("br")); item.appendChild(P.attachmentButton(a)); });
    timeline.appendChild(item);
    item.scrollIntoView({ block: "nearest" });
  }

  function showTyping(author) {
    var name = (author && author.name) || "Support";
    $("typing").textContent = name + " is typing…";
    clearTimeout(typingTimer);
    typingTimer = setTimeout(hideTyping, TYPING_SHOWN_MS);
  }

  function hideTyping() { clearTimeout(typingTimer); $("typing").textContent = ""; }

  // --- the socket's ups and downs ------------------------------------------------------------------

  function onState(state) {
    var polling = window.HelpdeskLiveSocket.pollingAllowed();
    $("live-state").textContent = state === "live" ? "" : polling ? "Reconnecting… checking for new messages every few seconds" : "Reconnecting…";
    document.body.dataset.live = state;
    clearInterval(downTimer);
    if (state !== "live" && polling) downTimer = setInterval(pollWhileDown, DOWN_POLL_MS);
  }

  function pollWhileDown() {
    var state = page().state;
    if (state.openTicketId) page().openTicket(state.openTicketId);
    home().reload();
  }

  /** Back after a drop: everything that happened meanwhile, from the page's own cursors. */
  function catchUp() {
    var P = page();
    var state = P.state;
    if (state.shownId) {
      var query = state.shownId === state.conversationId && state.cursor ? "?after=" + encodeURIComponent(state.cursor) : "";
      P.api("GET", "/messenger/conversations/" + encodeURIComponent(state.shownId) + query).then(function (conversation) {
        (conversation.messages || []).forEach(P.renderMessage);
        if (conversation.id === state.conversationId && conversation.next_cursor) state.cursor = later(state.cursor, conversation.next_cursor);
      }).catch(function () { /* the next frame or reconnect tries again */ });
    }
    if (state.openTicketId) P.openTicket(state.openTicketId);
    home().reload();
  }

  function watchWhatIsShown() {
    if (!live) return;
    var state = page().state;
    if (!$("panel-tickets").hidden && state.openTicketId && !$("ticket-detail").hidden) live.watch({ ticket_id: state.openTicketId });
    else if (!$("panel-chat").hidden && !$("messages").hidden && state.shownId) live.watch({ conversation_id: state.shownId });
    else live.watch(null);
  }

  function connect() {
    var state = page().state;
    if (live || !window.HelpdeskLiveSocket || !state.liveUrl) return;
    live = new window.HelpdeskLiveSocket({
      url: state.liveUrl,
      token: function () { return page().state.token; },
      onFrame: onFrame,
      onState: onState,
      onResume: function (resumed) { watchWhatIsShown(); if (resumed) catchUp(); },
    }).start();
  }

  $("message-input").addEventListener("input", function () {
    var state = page().state;
    if (live && state.conversationId && !$("messages").hidden) live.typing(state.conversationId, false);
  });

  window.HelpdeskMessengerLive = {
    ready: connect,
    isLive: function () { return !!live && (live.isLive() || !window.HelpdeskLiveSocket.pollingAllowed()); },
    threadShown: watchWhatIsShown,
    homeShown: watchWhatIsShown,
    tabShown: watchWhatIsShown,
    ticketShown: watchWhatIsShown,
    conversationShown: function () { hideTyping(); watchWhatIsShown(); },
  };
})();
