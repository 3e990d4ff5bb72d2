/* The customer profile beside a conversation or ticket: who the customer is and how sure we are of it,
 * their conversations and tickets (only those the agent may read), the satisfaction ratings they gave,
 * and their profile actions (e.g. recent orders) run on demand, as the customer.
 *
 * Reads GET /inbox/customers/{id}; runs POST /inbox/customers/{id}/actions/{action}. Uses the page's
 * own api/open helpers (window.HelpdeskInbox); everything people wrote is rendered with textContent.
 */
(function () {
  "use strict";

  var IDENTITY = {
    visitor: "Anonymous visitor: nobody vouched for them",
    email_only: "Known only by their email address (not verified)",
    signed_in: "Signed in by our app",
    verified: "Signed in, and confirmed again",
  };

  function inbox() { return window.HelpdeskInbox; }
  function $(id) { return document.getElementById(id); }
  function el(tag, className, text) { return inbox().el(tag, className, text); }

  function customerId() {
    var state = inbox().state;
    if (state.kind === "tickets" && state.ticket && state.ticket.id === state.selected) return state.ticket.customer_id;
    if (state.kind === "conversations" && state.conversation && state.conversation.id === state.selected) {
      return state.conversation.customer.id;
    }
    return null;
  }

  function section(title) {
    var wrap = el("section", "profile-section");
    wrap.appendChild(el("h3", null, title));
    return wrap;
  }

  function facts(pairs) {
    var dl = el("dl");
    pairs.forEach(function (pair) {
      if (pair[1] === null || pair[1] === undefined || pair[1] === "") return;
      dl.appendChild(el("dt", null, pair[0]));
      dl.appendChild(el("dd", null, pair[1]));
    });
    return dl;
  }

  function linkTo(kind, id, text, meta) {
    var li = el("li");
    var button = el("button", "profile-link");
    button.type = "button";
    button.appendChild(el("span", null, text));
    button.appendChild(el("span", "meta", meta));
    button.addEventListener("click", function () {
      window.location.hash = (kind === "tickets" ? "ticket=" : "conversation=") + encodeURIComponent(id);
      inbox().open(kind, id);
    });
    li.appendChild(button);
    return li;
  }

  function renderHistory(body, profile) {
    var when = inbox().when;
    var tickets = section("Tickets (" + profile.tickets.length + ")");
    var ticketList = el("ul", "profile-list");
    profile.tickets.forEach(function (t) {
      ticketList.appendChild(linkTo("tickets", t.id, "#" + t.number + " " + t.title, t.state_id + " · " + t.team_id + " · " + when(t.created_at)));
    });
    if (!profile.tickets.length) ticketList.appendChild(el("li", "meta", "None you can see."));
    tickets.appendChild(ticketList);
    body.appendChild(tickets);

    var conversations = section("Conversations (" + profile.conversations.length + ")");
    var conversationList = el("ul", "profile-list");
    profile.conversations.forEach(function (c) {
      conversationList.appendChild(linkTo("conversations", c.id, c.preview || "(no message)", c.status + " · " + c.channel + " · " + when(c.updated_at)));
    });
    if (!profile.conversations.length) conversationList.appendChild(el("li", "meta", "None you can see."));
    conversations.appendChild(conversationList);
    body.appendChild(conversations);

    var ratings = section("Satisfaction (CSAT)");
    if (profile.ratings.length) {
      ratings.appendChild(el("p", "profile-average", "Average " + profile.average_rating + " / 5 from " + profile.ratings.length + " rating" + (profile.ratings.length === 1 ? "" : "s")));
      var list = el("ul", "profile-list");
      profile.ratings.forEach(function (r) {
        list.appendChild(el("li", null, r.score + "/5 on #" + r.ticket_number + (r.comment ? ": “" + r.comment + "”" : "")));
      });
      ratings.appendChild(list);
    } else {
      ratings.appendChild(el("p", "meta", "No rating given on tickets you can see."));
    }
    body.appendChild(ratings);
  }

  function renderResult(target, result) {
    target.textContent = "";
    if (!result.ok) {
      var why = result.outcome === "not_on_account" ? "Not found on this customer's account." : "The action didn't work (" + result.outcome.replace(/_/g, " ") + (result.error ? ": " + result.error : "") + ").";
      target.appendChild(el("p", "profile-error", why));
      return;
    }
    Object.keys(result.outputs).forEach(function (name) {
      var value = result.outputs[name];
      target.appendChild(el("h4", null, name.replace(/_/g, " ")));
      if (Array.isArray(value) && value.length && typeof value[0] === "object") {
        // A list of records (e.g. orders): one compact card each, its first field as the heading.
        var cards = el("ul", "profile-records");
        value.forEach(function (record) {
          var names = Object.keys(record);
          var card = el("li");
          card.appendChild(el("strong", null, record[names[0]]));
          var rest = names.slice(1).filter(function (n) { return record[n] !== null && record[n] !== undefined && record[n] !== ""; });
          card.appendChild(el("span", "meta", rest.map(function (n) { return n.replace(/_/g, " ") + ": " + record[n]; }).join(" · ")));
          cards.appendChild(card);
        });
        target.appendChild(cards);
      } else if (Array.isArray(value) && !value.length) {
        target.appendChild(el("p", "meta", "None."));
      } else {
        target.appendChild(el("p", null, typeof value === "object" ? JSON.stringify(value) : value));
      }
    });
  }

  function renderActions(body, profile) {
    if (!profile.actions.length) return;
    var wrap = section("Actions");
    profile.actions.forEach(function (action) {
      var form = el("form", "profile-action");
      form.dataset.action = action.id;
      form.appendChild(el("p", "meta", action.description));
      action.inputs.forEach(function (name) {
        var label = el("label", null, name.replace(/_/g, " "));
        var input = el("input");
        input.name = name;
        input.required = true;
        input.maxLength = 200;
        label.appendChild(input);
        form.appendChild(label);
      });
      var run = el("button", null, "Run " + action.id.replace(/-/g, " "));
      run.type = "submit";
      form.appendChild(run);
      var result = el("div", "profile-result");
      result.setAttribute("aria-live", "polite");
      form.appendChild(result);
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        var inputs = {};
        action.inputs.forEach(function (name) { inputs[name] = form.querySelector("[name='" + name + "']").value.trim(); });
        run.disabled = true;
        result.textContent = "Running…";
        inbox().api("POST", "/inbox/customers/" + encodeURIComponent(profile.id) + "/actions/" + encodeURIComponent(action.id), { inputs: inputs })
          .then(function (answer) { renderResult(result, answer); })
          .catch(function (error) { result.textContent = ""; result.appendChild(el("p", "profile-error", error.message)); })
          .then(function () { run.disabled = false; });
      });
      wrap.appendChild(form);
    });
    body.appendChild(wrap);
  }

  function render(profile) {
    var body = $("profile-body");
    body.textContent = "";
    $("profile-title").textContent = profile.name || profile.email || profile.id;
    var identity = profile.identity;
    var attributes = Object.keys(identity.verified_attributes).map(function (k) { return k + ": " + identity.verified_attributes[k]; }).join("\n");
    body.appendChild(facts([
      ["Email", profile.email], ["Phone", profile.phone], ["Id", profile.id],
      ["Identity", IDENTITY[identity.status] + (identity.verified_at ? " (" + inbox().when(identity.verified_at) + ")" : "")],
      ["Verified facts", attributes],
    ]));
    renderActions(body, profile);
    renderHistory(body, profile);
  }

  function show(focus) {
    var id = customerId();
    var panel = $("profile");
    if (!id) { inbox().showStatus("Open a conversation or ticket with a customer first."); return; }
    panel.hidden = false;
    shownFor = id;
    document.body.dataset.profile = "open";
    $("profile-toggle").setAttribute("aria-expanded", "true");
    $("profile-title").textContent = "Customer profile";
    $("profile-body").textContent = "Loading…";
    inbox().api("GET", "/inbox/customers/" + encodeURIComponent(id)).then(render).catch(function (error) {
      $("profile-body").textContent = error.message;
    });
    if (focus !== false) $("profile-close").focus();
  }

  function hide() {
    $("profile").hidden = true;
    delete document.body.dataset.profile;
    $("profile-toggle").setAttribute("aria-expanded", "false");
  }

  function toggle() { if ($("profile").hidden) show(); else { hide(); $("profile-toggle").focus(); } }

  $("profile-toggle").addEventListener("click", toggle);
  $("profile-close").addEventListener("click", function () { hide(); $("profile-toggle").focus(); });

  // Another conversation or ticket opened while the profile is shown: show its customer instead.
  var shownFor = null;
  new MutationObserver(function () {
    var id = customerId();
    if (!$("profile").hidden && id && id !== shownFor) show(false);
  }).observe($("detail-title"), { childList: true, characterData: true, subtree: true });

  window.InboxProfile = { show: show, hide: hide, toggle: toggle };
})();
