/* The messenger's home: what the customer sees before typing, and what they haven't read yet.
 *
 * Greeting, the bot's menu (a tap starts a conversation on that path), when to expect a reply, recent
 * conversations (open or closed: a status update posted into a closed one shows here too) and open
 * tickets, each with its unread count; the tabs and the launcher (through the embedding page) show the
 * totals. Counts come from GET /messenger/unread and then live "unread" frames; opening a conversation
 * or a ticket marks it read. Everything people wrote is set as text, never markup.
 */
(function () {
  "use strict";

  var RECENT = 5;
  var home = { conversations: [], tickets: [], unread: {}, loaded: false, shownTicket: null };

  function page() { return window.HelpdeskMessengerPage; }
  function $(id) { return document.getElementById(id); }
  function key(type, id) { return type + "#" + id; }

  var STATUS = { open: "Open", bot: "With the assistant", snoozed: "Open", closed: "Closed" };

  function clock() {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var circle = document.createElementNS(ns, "circle");
    circle.setAttribute("cx", "12"); circle.setAttribute("cy", "12"); circle.setAttribute("r", "9");
    var hands = document.createElementNS(ns, "path");
    hands.setAttribute("d", "M12 7v5l3 2");
    [circle, hands].forEach(function (shape) {
      shape.setAttribute("fill", "none"); shape.setAttribute("stroke", "currentColor"); shape.setAttribute("stroke-width", "2");
      svg.appendChild(shape);
    });
    return svg;
  }

  function badge(count, label) {
    var span = page().el("span", "badge", String(count));
    span.setAttribute("aria-label", count + " unread " + label);
    return span;
  }

  // --- loading -------------------------------------------------------------------------------------

  function load() {
    var api = page().api;
    return Promise.all([
      api("GET", "/messenger/home"),
      api("GET", "/messenger/conversations?limit=" + RECENT),
      api("GET", "/messenger/tickets?limit=25"),
      api("GET", "/messenger/unread"),
    ]).then(function (answers) {
      renderIntro(answers[0]);
      home.conversations = answers[1].items || [];
      home.tickets = answers[2].items || [];
      home.unread = {};
      (answers[3].items || []).forEach(function (u) { home.unread[key(u.thread_type, u.thread_id)] = u.unread; });
      home.loaded = true;
      render();
      readWhatIsShown();
    }).catch(function (error) { page().showStatus(page().explain(error)); });
  }

  function renderIntro(intro) {
    $("home-greeting").textContent = intro.greeting;
    var reply = $("home-reply");
    reply.textContent = "";
    reply.appendChild(clock());
    reply.appendChild(document.createTextNode(" " + intro.reply.text));
    reply.classList.toggle("away", !intro.reply.open_now);
    var menu = $("home-menu");
    menu.textContent = "";
    (intro.menu || []).forEach(function (option) {
      var button = page().el("button", null, option.label);
      button.type = "button";
      button.addEventListener("click", function () { start(option); });
      menu.appendChild(button);
    });
    menu.hidden = !(intro.menu || []).length;
  }

  /** A menu option starts a new conversation on that path, whatever else is open. */
  function start(option) {
    var state = page().state;
    state.conversationId = null;
    state.cursor = null;
    page().send({ body: option.label, option_id: option.id }).then(load, function () { /* shown already */ });
  }

  // --- rendering -----------------------------------------------------------------------------------

  function render() {
    var P = page();
    var list = $("home-conversations");
    list.textContent = "";
    home.conversations.slice(0, RECENT).forEach(function (conversation) {
      var item = P.el("li");
      var button = P.el("button", "home-item");
      button.type = "button";
      button.dataset.conversationId = conversation.id;
      var top = P.el("span", "line");
      top.appendChild(P.el("strong", "title", conversation.preview || "Conversation"));
      var count = home.unread[key("conversation", conversation.id)] || 0;
      if (count) top.appendChild(badge(count, "messages"));
      button.appendChild(top);
      var meta = P.el("span", "meta", (STATUS[conversation.status] || conversation.status) + " · ");
      meta.appendChild(P.timeOf(conversation.updated_at));
      button.appendChild(meta);
      button.addEventListener("click", function () { P.openConversation(conversation.id); });
      item.appendChild(button);
      list.appendChild(item);
    });
    $("home-conversations-box").hidden = !home.conversations.length;

    var tickets = $("home-tickets");
    tickets.textContent = "";
    var open = home.tickets.filter(function (t) { return t.state.category !== "resolved"; });
    open.forEach(function (ticket) {
      var item = P.el("li");
      var button = P.el("button", "home-item");
      button.type = "button";
      button.dataset.ticketId = ticket.id;
      var top = P.el("span", "line");
      top.appendChild(P.el("strong", "title", "#" + ticket.number + " " + ticket.title));
      var count = home.unread[key("ticket", ticket.id)] || 0;
      if (count) top.appendChild(badge(count, "updates"));
      button.appendChild(top);
      var meta = P.el("span", "meta");
      meta.appendChild(P.el("span", "label", ticket.state.label));
      meta.appendChild(document.createTextNode(" · updated "));
      meta.appendChild(P.timeOf(ticket.updated_at));
      button.appendChild(meta);
      button.addEventListener("click", function () { P.selectTab("tab-tickets"); P.openTicket(ticket.id); });
      item.appendChild(button);
      tickets.appendChild(item);
    });
    $("home-tickets-box").hidden = !open.length;
    totals();
  }

  function totals() {
    var conversations = 0;
    var tickets = 0;
    Object.keys(home.unread).forEach(function (k) {
      if (!home.unread[k]) return;
      if (k.indexOf("ticket#") === 0) tickets += 1; else conversations += 1;
    });
    setBadge("chat-badge", conversations, "conversations with unread messages");
    setBadge("tickets-badge", tickets, "tickets with unread updates");
    var state = page().state;
    // The launcher on the business's page shows how many threads have something unread: told only to
    // a parent on the workspace's messenger_origins, never to whatever site frames the page.
    if (state.embedded && window.parent) {
      page().tellParent({ type: "helpdesk:unread", count: conversations + tickets });
    }
  }

  function setBadge(id, count, label) {
    var node = $(id);
    node.hidden = !count;
    node.textContent = count ? String(count) : "";
    node.setAttribute("aria-label", count + " " + label);
  }

  // --- live updates (messenger-live.js calls these) ----------------------------------------------

  function upsert(list, data) {
    var index = list.findIndex(function (x) { return x.id === data.id; });
    if (index >= 0) list[index] = Object.assign({}, list[index], data);
    else list.unshift(data);
    list.sort(function (a, b) { return a.updated_at < b.updated_at ? 1 : -1; });
  }

  function conversationChanged(data) {
    upsert(home.conversations, data);
    render();
  }

  function messageArrived(message) {
    var known = home.conversations.filter(function (c) { return c.id === message.conversation_id; })[0];
    if (!known) return; // conversation.updated brings it
    known.preview = (message.body || "").slice(0, 140) || known.preview;
    known.updated_at = message.created_at;
    upsert(home.conversations, known);
    render();
  }

  function ticketChanged(data) {
    upsert(home.tickets, data);
    render();
  }

  function unreadChanged(count) {
    home.unread[key(count.thread_type, count.thread_id)] = count.unread;
    render();
    readWhatIsShown();
  }

  // --- reading -------------------------------------------------------------------------------------

  /** What the customer is looking at right now is read: its counter goes back to 0. */
  function readWhatIsShown() {
    if (document.visibilityState === "hidden") return;
    var state = page().state;
    var chatShown = !$("panel-chat").hidden && !$("messages").hidden;
    if (chatShown && state.shownId) markRead("conversation", state.shownId);
    if (!$("panel-tickets").hidden && home.shownTicket) markRead("ticket", home.shownTicket);
  }

  function markRead(type, id) {
    if (!home.unread[key(type, id)]) return;
    home.unread[key(type, id)] = 0;
    render();
    var path = type === "ticket" ? "/messenger/tickets/" : "/messenger/conversations/";
    page().api("POST", path + encodeURIComponent(id) + "/read").catch(function () { /* counted again next time */ });
  }

  document.addEventListener("visibilitychange", readWhatIsShown);

  // --- knowledge-base articles ----------------------------------------------------------------------

  function openArticle(id) {
    page().api("GET", "/messenger/articles/" + encodeURIComponent(id)).then(function (article) {
      $("article-title").textContent = article.title;
      var body = $("article-body");
      body.textContent = "";
      body.appendChild(window.HelpdeskMarkdown.render(article.body, openArticle));
      $("article").hidden = false;
      $("article-close").focus();
    }).catch(function (error) { page().showStatus(page().explain(error)); });
  }
  $("article-close").addEventListener("click", function () { $("article").hidden = true; });

  window.HelpdeskHome = {
    ready: load,
    reload: load,
    homeShown: function () { if (home.loaded) render(); },
    threadShown: readWhatIsShown,
    tabShown: readWhatIsShown,
    ticketShown: function (ticket) { home.shownTicket = ticket ? ticket.id : null; if (ticket) ticketChanged(ticket); readWhatIsShown(); },
    conversationShown: function () { readWhatIsShown(); },
    openArticle: openArticle,
    conversationChanged: conversationChanged,
    messageArrived: messageArrived,
    ticketChanged: ticketChanged,
    unreadChanged: unreadChanged,
  };
})();
