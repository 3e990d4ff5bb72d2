/* The conversation transcript on a ticket: what the customer, the bot and agents wrote in the conversation
 * the ticket was opened from (internal notes too), in a collapsible section of the ticket's detail, and on a
 * back-office ticket a link to the ticket it serves.
 *
 * Reads GET /inbox/tickets/{id}/transcript (whoever may read the ticket may read it, even when the
 * conversation is another team's), only once the section is opened, a page at a time (oldest first).
 * Uses the page's helpers (window.HelpdeskInbox); everything people wrote is rendered with textContent.
 */
(function () {
  "use strict";

  var PAGE = 50;
  var shown = null;   // the ticket the section is for
  var loaded = null;  // the ticket whose transcript is in the list
  var cursor = null;

  function inbox() { return window.HelpdeskInbox; }
  function $(id) { return document.getElementById(id); }

  function path(ticketId) {
    var query = "?limit=" + PAGE + (cursor ? "&cursor=" + encodeURIComponent(cursor) : "");
    return "/inbox/tickets/" + encodeURIComponent(ticketId) + "/transcript" + query;
  }

  function who(message) {
    var author = message.author;
    if (author.type === "customer") return author.name || "Customer";
    if (author.type === "bot") return author.name || "Bot";
    return author.name || author.id || author.type;
  }

  function render(page) {
    var list = $("transcript-messages");
    page.messages.forEach(function (m) {
      list.appendChild(inbox().timelineEntry(who(m), m.body, m.internal, m.author.type, m.created_at, m.attachments, m.id));
    });
    var empty = !list.children.length;
    $("transcript-empty").hidden = !empty;
    $("transcript-empty").textContent = "No messages.";
    cursor = page.next_cursor;
    $("transcript-more").hidden = !cursor;
  }

  function load() {
    var ticketId = shown;
    if (!ticketId) return;
    $("transcript-status").textContent = "Loading the transcript…";
    inbox().api("GET", path(ticketId)).then(function (page) {
      if (shown !== ticketId) return;  // the agent moved on to another ticket
      loaded = ticketId;
      $("transcript-status").textContent = "";
      render(page);
    }).catch(function (error) {
      $("transcript-status").textContent = "";
      inbox().fail(error);
    });
  }

  function servedLink(ticket) {
    var served = $("transcript-served");
    served.textContent = "";
    served.hidden = !(ticket.category === "back_office" && ticket.linked_ticket_id);
    if (served.hidden) return;
    var button = document.createElement("button");
    button.type = "button";
    button.className = "link";
    button.textContent = "Open the ticket this one serves";
    button.addEventListener("click", function () {
      window.location.hash = "ticket=" + encodeURIComponent(ticket.linked_ticket_id);
      inbox().open("tickets", ticket.linked_ticket_id);
    });
    served.appendChild(document.createTextNode("Back-office work for another ticket. "));
    served.appendChild(button);
  }

  function show(ticket) {
    var section = $("transcript");
    servedLink(ticket);
    section.hidden = !ticket.conversation_id;
    if (shown === ticket.id) return;  // the page refreshed the same ticket: keep what was read
    shown = ticket.id;
    loaded = null;
    cursor = null;
    $("transcript-messages").textContent = "";
    $("transcript-empty").hidden = true;
    $("transcript-more").hidden = true;
    if (section.open && !section.hidden) load();
  }

  function hide() {
    $("transcript").hidden = true;
    $("transcript-served").hidden = true;
    shown = null;
  }

  $("transcript").addEventListener("toggle", function () {
    if ($("transcript").open && shown && loaded !== shown) load();
  });
  $("transcript-more").addEventListener("click", load);

  window.HelpdeskInboxTranscript = { show: show, hide: hide };
})();
