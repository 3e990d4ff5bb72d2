/* The inbox's search box: GET /inbox/search?q= as the agent types (two characters or more), results in
 * three groups (customers, tickets, conversations). A ticket or conversation opens in the detail pane;
 * a customer lists what the search finds under their id (their conversations). Only what the agent may
 * read ever comes back. Everything is rendered with textContent.
 */
(function () {
  "use strict";

  var DELAY_MS = 250;
  var timer = null;
  var asked = 0;

  function $(id) { return document.getElementById(id); }
  function inbox() { return window.HelpdeskInbox; }

  function button(label, detail, onClick) {
    var el = inbox().el;
    var item = el("li");
    var b = el("button", "search-hit");
    b.type = "button";
    b.appendChild(el("span", "search-hit-label", label));
    if (detail) b.appendChild(el("span", "search-hit-detail", detail));
    b.addEventListener("click", onClick);
    item.appendChild(b);
    return item;
  }

  function group(title, items) {
    var el = inbox().el;
    var section = el("section", "search-group");
    section.appendChild(el("h3", null, title + " (" + items.length + ")"));
    var list = el("ul", "search-list");
    items.forEach(function (item) { list.appendChild(item); });
    section.appendChild(list);
    return section;
  }

  function opener(kind, id) {
    return function () { inbox().open(kind, id); $("search-results").hidden = true; };
  }

  function show(results) {
    var box = $("search-results");
    box.textContent = "";
    var customers = results.customers.map(function (c) {
      return button(c.name || c.email || c.id, [c.email, c.phone, c.id].filter(Boolean).join(" · "), function () {
        $("search-input").value = c.id;
        ask(c.id);
      });
    });
    var tickets = results.tickets.map(function (t) {
      var facts = [t.state && t.state.label, t.attributes && t.attributes.order_id, t.customer_id].filter(Boolean);
      return button("#" + t.number + " " + t.title, facts.join(" · "), opener("tickets", t.id));
    });
    var conversations = results.conversations.map(function (hit) {
      var c = hit.conversation;
      var who = c.customer.name || c.customer.email || c.customer.id;
      var why = hit.matched === "messages" ? "words in messages" : "customer";
      return button(who + ": " + (c.preview || ""), c.status + " · found by " + why, opener("conversations", c.id));
    });
    if (!customers.length && !tickets.length && !conversations.length) {
      box.appendChild(inbox().el("p", "search-empty", "Nothing you may read matches \u201c" + results.query + "\u201d."));
    } else {
      if (customers.length) box.appendChild(group("Customers", customers));
      if (tickets.length) box.appendChild(group("Tickets", tickets));
      if (conversations.length) box.appendChild(group("Conversations", conversations));
    }
    box.hidden = false;
  }

  function ask(q) {
    var mine = ++asked;
    return inbox().api("GET", "/inbox/search?q=" + encodeURIComponent(q)).then(function (results) {
      if (mine === asked) show(results);
    }).catch(inbox().fail);
  }

  function start() {
    var form = $("search");
    var input = $("search-input");
    if (!form || !input) return;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      clearTimeout(timer);
      if (input.value.trim().length >= 2) ask(input.value.trim());
    });
    input.addEventListener("input", function () {
      clearTimeout(timer);
      var q = input.value.trim();
      if (q.length < 2) { $("search-results").hidden = true; return; }
      timer = setTimeout(function () { ask(q); }, DELAY_MS);
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { $("search-results").hidden = true; }
    });
  }

  start();
})();
