/* The inbox page: views, a conversation or ticket with its timeline, context panel and hand-off
 * capsule, the actions agents take, and new activity appearing without reloading (polling).
 *
 * Sign-in: in AWS, Cognito's hosted UI (authorization code + PKCE); locally, demo agents whose
 * tokens the local runtime hands out. Everything people wrote is rendered with textContent.
 */
(function () {
  "use strict";

  var POLL_MS = 3000;
  var TOKEN_KEY = "helpdesk.agentToken";
  var state = { config: {}, token: null, me: null, view: "conversations", query: "status=open", team: "",
    selected: null, kind: null, types: {}, teams: [], ticket: null, conversation: null, rosters: {}, pollTimer: null };

  function $(id) { return document.getElementById(id); }
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function showStatus(text) { $("status").textContent = text || ""; }

  // --- live hooks: the live channel (static/live.js) plugs in here --------------------------------
  function hook(name) {
    var live = window.HelpdeskInboxLive;
    if (!live || !live[name]) return undefined;
    return live[name].apply(null, Array.prototype.slice.call(arguments, 1));
  }
  function when(iso) { try { return new Date(iso).toLocaleString(); } catch (e) { return iso; } }

  function api(method, path, body) {
    var headers = { "Accept": "application/json", "Authorization": "Bearer " + state.token };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    return fetch((state.config.api_base || "") + path, {
      method: method, headers: headers, body: body === undefined ? undefined : JSON.stringify(body),
    }).then(function (response) {
      return response.text().then(function (text) {
        var data = text ? JSON.parse(text) : null;
        if (response.status === 401) { signOut(); }
        if (!response.ok) {
          var details = (data && data.details) ? ": " + data.details.map(function (d) { return d.field + " " + d.message; }).join("; ") : "";
          var error = new Error(((data && data.message) || ("HTTP " + response.status)) + details);
          error.status = response.status;
          throw error;
        }
        return data;
      });
    });
  }

  function fail(error) { showStatus(error.message); }

  // --- sign-in -------------------------------------------------------------------------------------

  function base64url(bytes) {
    return btoa(String.fromCharCode.apply(null, new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function cognitoSignIn() {
    var verifier = base64url(crypto.getRandomValues(new Uint8Array(32)));
    sessionStorage.setItem("helpdesk.pkce", verifier);
    crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)).then(function (hash) {
      var c = state.config;
      location.href = c.cognito_domain + "/oauth2/authorize?response_type=code&client_id=" + encodeURIComponent(c.client_id) +
        "&redirect_uri=" + encodeURIComponent(c.redirect_uri) + "&scope=openid+email+profile&code_challenge_method=S256&code_challenge=" + base64url(hash);
    });
  }

  function finishCognitoSignIn(code) {
    var c = state.config;
    var form = new URLSearchParams({ grant_type: "authorization_code", client_id: c.client_id, code: code,
      redirect_uri: c.redirect_uri, code_verifier: sessionStorage.getItem("helpdesk.pkce") || "" });
    history.replaceState(null, "", location.pathname);
    return fetch(c.cognito_domain + "/oauth2/token", { method: "POST", body: form, headers: { "Content-Type": "application/x-www-form-urlencoded" } })
      .then(function (r) { return r.json(); })
      .then(function (tokens) { if (!tokens.id_token) throw new Error("Sign-in failed"); return tokens.id_token; });
  }

  function showSignIn() {
    $("app").hidden = true;
    $("sign-in").hidden = false;
    if (state.config.sign_in === "cognito") {
      $("cognito-sign-in").hidden = false;
    } else {
      $("local-sign-in").hidden = false;
      var list = $("dev-agents");
      list.textContent = "";
      (state.config.dev_agents || []).forEach(function (agent) {
        var item = el("li");
        var button = el("button", null, "Sign in as " + agent.name + " (" + agent.teams.join(", ") + ")");
        button.type = "button";
        button.addEventListener("click", function () { start(agent.token); });
        item.appendChild(button);
        list.appendChild(item);
      });
    }
  }

  function signOut() {
    sessionStorage.removeItem(TOKEN_KEY);
    state.token = null;
    if (state.pollTimer) { clearInterval(state.pollTimer); state.pollTimer = null; }
    hook("signedOut"); // live hook
    showSignIn();
  }

  $("cognito-button").addEventListener("click", cognitoSignIn);
  $("sign-out").addEventListener("click", signOut);

  // --- the app -------------------------------------------------------------------------------------

  function start(token) {
    state.token = token;
    sessionStorage.setItem(TOKEN_KEY, token);
    return Promise.all([api("GET", "/inbox/me"), api("GET", "/inbox/ticket-types"), api("GET", "/inbox/teams")])
      .then(function (results) {
        state.me = results[0];
        results[1].items.forEach(function (t) { state.types[t.id] = t; });
        state.teams = results[2].items;
        $("sign-in").hidden = true;
        $("app").hidden = false;
        $("me").textContent = (state.me.name || state.me.id) + " · " + (state.me.teams.join(", ") || "no team");
        $("availability").value = state.me.availability;
        fillTeams($("team-filter"), state.me.teams[0] || state.teams[0].id);
        fillTeams($("assign-team"));
        fillTeams($("convert-team"));
        fillTeams($("ticket-team"));
        state.team = $("team-filter").value;
        var types = $("convert-type");
        types.textContent = "";
        Object.keys(state.types).forEach(function (id) { types.appendChild(new Option(state.types[id].name, id)); });
        renderConvertAttributes();
        selectView(document.querySelector(".views button"));
        // The Reports page links here as #ticket=<id> or #conversation=<id>.
        var linked = /^#(ticket|conversation)=([A-Za-z0-9_.-]+)$/.exec(location.hash);
        if (linked) open(linked[1] + "s", decodeURIComponent(linked[2]));
        if (!state.pollTimer) state.pollTimer = setInterval(refresh, POLL_MS);
        hook("signedIn", state.me); // live hook
        document.body.dataset.ready = "true";
      })
      .catch(function (error) { fail(error); signOut(); });
  }

  function fillTeams(select, selected) {
    select.textContent = "";
    state.teams.forEach(function (team) { select.appendChild(new Option(team.name, team.id, false, team.id === selected)); });
  }

  $("availability").addEventListener("change", function (event) {
    hook("availabilityChosen", event.target.value); // live hook
    api("PUT", "/inbox/me/availability", { availability: event.target.value }).catch(fail);
  });
  $("team-filter").addEventListener("change", function (event) { state.team = event.target.value; loadList(); });

  function selectView(button) {
    document.querySelectorAll(".views button").forEach(function (b) { b.setAttribute("aria-pressed", String(b === button)); });
    state.view = button.dataset.view;
    state.query = button.dataset.query;
    $("list-title").textContent = (state.view === "tickets" ? "Tickets: " : "Conversations: ") + button.dataset.name;
    hook("viewSelected", button); // live hook
    loadList();
  }
  document.querySelectorAll(".views button").forEach(function (button) {
    button.addEventListener("click", function () { selectView(button); });
  });

  function listPath(cursor) {
    var query = state.query;
    if (query.indexOf("assignee_id") === -1) query += "&team_id=" + encodeURIComponent(state.team);
    if (cursor) query += "&cursor=" + encodeURIComponent(cursor);
    return "/inbox/" + state.view + "?" + query;
  }

  function loadList(cursor) {
    return api("GET", listPath(cursor)).then(function (page) {
      var list = $("items");
      if (!cursor) list.textContent = "";
      page.items.forEach(function (item) { list.appendChild(listItem(item)); });
      if (!page.items.length && !cursor) list.appendChild(el("li", "meta", "Nothing here."));
      var more = $("more");
      more.hidden = !page.next_cursor;
      more.onclick = function () { loadList(page.next_cursor); };
      showStatus("");
    }).catch(fail);
  }

  function listItem(item) {
    var li = el("li");
    var button = el("button");
    button.type = "button";
    button.dataset.id = item.id;
    if (state.selected === item.id) button.setAttribute("aria-current", "true");
    if (state.view === "tickets") {
      button.appendChild(el("strong", null, "#" + item.number + " " + item.title));
      button.appendChild(el("span", "meta", item.state.label + " · " + item.priority + " · " + item.team_id + (item.assignee_id ? " · " + item.assignee_id : "")));
      if (item.tags && item.tags.length) button.appendChild(el("span", "meta tags", item.tags.map(function (t) { return "#" + t; }).join(" ")));
      if (item.sla_due_at) button.appendChild(el("span", "meta", "SLA " + slaText(item)));
    } else {
      button.appendChild(el("strong", null, item.customer.name || item.customer.id));
      if (item.channel === "email") button.appendChild(el("span", "meta channel-email", "Email: " + (item.email_subject || "(no subject)")));
      button.appendChild(el("span", "meta", item.preview || ""));
      button.appendChild(el("span", "meta", when(item.updated_at) + (item.assignee_id ? " · " + item.assignee_id : "")));
      if (item.tags && item.tags.length) button.appendChild(el("span", "meta tags", item.tags.map(function (t) { return "#" + t; }).join(" ")));
    }
    button.addEventListener("click", function () { open(state.view, item.id); });
    li.appendChild(button);
    return li;
  }

  // --- people to assign ---------------------------------------------------------------------------

  /* A team's roster (GET /inbox/teams/{id}/agents), asked once per team and page load. */
  function roster(teamId) {
    if (!state.rosters[teamId]) {
      state.rosters[teamId] = api("GET", "/inbox/teams/" + encodeURIComponent(teamId) + "/agents")
        .then(function (page) { return page.items; }, function (error) { delete state.rosters[teamId]; throw error; });
    }
    return state.rosters[teamId];
  }

  function agentLabel(agent) {
    return (agent.name || agent.id) + (agent.availability === "online" ? " (online)" : " (away)");
  }

  /* Fill ``select`` with the team's agents; ``first`` is the option for nobody; ``current`` stays listed. */
  function fillAgents(select, teamId, first, current) {
    if (!select.options.length || select.value !== (current || "")) {
      // Until the roster arrives, say who it is now rather than show an empty box.
      select.textContent = "";
      select.appendChild(new Option(current || first, current || "", false, true));
    }
    return roster(teamId).then(function (agents) {
      select.textContent = "";
      select.appendChild(new Option(first, ""));
      var listed = false;
      agents.slice().sort(function (a, b) { return (a.name || a.id).localeCompare(b.name || b.id); }).forEach(function (agent) {
        listed = listed || agent.id === current;
        select.appendChild(new Option(agentLabel(agent), agent.id, false, agent.id === current));
      });
      if (current && !listed) select.appendChild(new Option(current + " (another team)", current, false, true));
      select.value = current || "";
    });
  }

  // --- detail --------------------------------------------------------------------------------------

  function open(kind, id) {
    state.selected = id;
    state.kind = kind;
    document.querySelectorAll("#items button").forEach(function (b) { b.setAttribute("aria-current", String(b.dataset.id === id)); });
    hook("opened", kind, id); // live hook
    return loadDetail();
  }

  function loadDetail() {
    if (!state.selected) return Promise.resolve();
    var path = "/inbox/" + state.kind + "/" + encodeURIComponent(state.selected);
    if (window.InboxComposerFiles) window.InboxComposerFiles.show(state.kind, state.selected);
    return api("GET", path).then(state.kind === "tickets" ? showTicket : showConversation).catch(fail);
  }

  function fields(target, pairs) {
    var dl = $(target);
    dl.textContent = "";
    pairs.forEach(function (pair) {
      if (pair[1] === undefined || pair[1] === null || pair[1] === "") return;
      dl.appendChild(el("dt", null, pair[0]));
      if (pair[1] instanceof Node) { var dd = el("dd"); dd.appendChild(pair[1]); dl.appendChild(dd); return; }
      dl.appendChild(el("dd", null, typeof pair[1] === "object" ? JSON.stringify(pair[1]) : pair[1]));
    });
    return dl.childElementCount > 0;
  }

  // A button that opens another ticket or conversation here (and puts it in the address, as the Reports page links).
  function openButton(kind, id, text) {
    if (!id) return null;
    var button = el("button", "link", text);
    button.type = "button";
    button.addEventListener("click", function () {
      // Asked first: an item of another team is refused with the policy's reason, and what is shown stays.
      api("GET", "/inbox/" + kind + "/" + encodeURIComponent(id)).then(function () {
        window.location.hash = (kind === "tickets" ? "ticket=" : "conversation=") + encodeURIComponent(id);
        open(kind, id);
      }).catch(fail);
    });
    return button;
  }

  function showCapsule(capsule) {
    $("capsule").hidden = !capsule;
    if (!capsule) return;
    fields("capsule-fields", [
      ["From", capsule.handed_off_by], ["To", (capsule.handed_to.team_id || "") + (capsule.handed_to.assignee_id ? " / " + capsule.handed_to.assignee_id : "")],
      ["Customer", capsule.customer.name || capsule.customer.id],
      ["Verified", capsule.customer.identity_verified_at ? "yes, " + when(capsule.customer.identity_verified_at) : "no"],
      ["About", capsule.linked_objects.map(function (o) { return o.type + " " + (o.number ? "#" + o.number : o.id); }).join(", ")],
      ["Collected", Object.keys(capsule.collected_attributes).length ? capsule.collected_attributes : null],
      ["Open questions", capsule.open_questions.join("\n")],
      ["Last said", capsule.last_customer_messages.slice(-3).join("\n")],
      ["Notes", capsule.notes.join("\n")],
    ]);
  }

  function showContext(context) {
    context = context || {};
    var any = fields("context-fields", [
      ["Page", context.page_url], ["Title", context.page_title], ["Device", [context.device, context.os].filter(Boolean).join(", ")],
      ["App", context.app_version], ["Locale", [context.locale, context.time_zone].filter(Boolean).join(", ")],
      ["Looking at", context.object ? context.object.type + " " + context.object.id : null],
      ["Unverified", context.attributes],
    ]);
    $("context-heading").hidden = !any;  // no heading over nothing: most email conversations have no page context
  }

  function fileLinks(attachmentId) { return api("GET", "/inbox/attachments/" + encodeURIComponent(attachmentId)); }

  function timelineEntry(who, body, internal, authorType, at, attachments, id) {
    var li = el("li", (internal ? "internal " : "") + (authorType || ""));
    if (id) li.dataset.id = id;
    li.appendChild(el("span", "who", who + " · " + when(at) + (internal ? " · internal" : "")));
    if (body) li.appendChild(el("span", "body", body));
    var files = window.InboxFiles.list(attachments, fileLinks);
    if (files) li.appendChild(files);
    return li;
  }

  function showConversation(conversation) {
    state.conversation = conversation;
    $("detail").hidden = false;
    $("approval").hidden = true;
    $("snooze").hidden = conversation.status === "closed";
    $("ticket-controls").hidden = true;
    $("conversation-controls").hidden = false;
    $("detail-title").textContent = "Conversation with " + (conversation.customer.name || conversation.customer.id) + " (" + conversation.status + ")";
    showCapsule(conversation.capsule);
    var byEmail = conversation.channel === "email";
    var identity = conversation.customer.is_visitor ? "anonymous visitor"
      : conversation.customer.identity_verified_at ? "verified in app " + when(conversation.customer.identity_verified_at)
      : byEmail && conversation.customer.id.indexOf("email:") === 0 ? "unverified: only their email address (ask them to sign in to verify)"
      : byEmail ? "known customer, writing by email (not verified by email)" : "signed token";
    showEmail(conversation);
    fields("customer-fields", [
      ["Id", conversation.customer.id], ["Email", conversation.customer.email],
      ["Channel", byEmail ? "email: replies are emailed too" + (conversation.email_subject ? " (" + conversation.email_subject + ")" : "") : null],
      ["Identity", identity],
      ["Verified facts", Object.keys(conversation.customer.verified_attributes).length ? conversation.customer.verified_attributes : null],
      ["Ticket", openButton("tickets", conversation.ticket_id, "Open its ticket")],
      ["Snoozed until", conversation.snoozed_until ? when(conversation.snoozed_until) : null],
    ]);
    if (window.HelpdeskInboxTags) window.HelpdeskInboxTags.show("conversations", conversation); // tags.js
    if (window.HelpdeskInboxTranscript) window.HelpdeskInboxTranscript.hide(); // transcript.js
    if (!isEditing()) fillAgents($("assign-agent"), $("assign-team").value, "Anyone online (routing picks)", null).catch(fail);
    showContext(conversation.context);
    var list = $("timeline");
    list.textContent = "";
    conversation.messages.forEach(function (m) {
      var who = m.author.type === "customer" ? (conversation.customer.name || "Customer") : (m.author.name || m.author.type);
      list.appendChild(timelineEntry(who, m.body, m.internal, m.author.type, m.created_at, m.attachments, m.id));
    });
    hook("conversationShown", conversation); // live hook
  }

  // An email conversation: where replies go, and a warning when the address no longer takes email.
  function showEmail(conversation) {
    var banner = $("email-banner");
    banner.hidden = true;
    if (conversation.channel !== "email") return;
    api("GET", "/inbox/conversations/" + encodeURIComponent(conversation.id) + "/email").then(function (view) {
      if (!view.suppressed) return;
      var why = view.suppressed.reason === "complaint" ? "they marked our email as spam" : "it bounced for good";
      banner.textContent = "Replies are not emailed to " + view.address + ": " + why + " (" + when(view.suppressed.since) +
        "). They still see them in the messenger.";
      banner.hidden = false;
    }).catch(fail);
  }

  function showTicket(ticket) {
    hook("beforeShowTicket", ticket); // live hook: notes what the agent is editing
    state.ticket = ticket;
    $("detail").hidden = false;
    $("ticket-controls").hidden = false;
    $("conversation-controls").hidden = true;
    $("email-banner").hidden = true;
    $("detail-title").textContent = "#" + ticket.number + " " + ticket.title + " (" + ticket.category + ")";
    showCapsule(ticket.capsule);
    fields("customer-fields", [["Customer", ticket.customer_name ? ticket.customer_name + " (" + ticket.customer_id + ")" : ticket.customer_id], ["SLA", slaText(ticket)], ["Verified facts", Object.keys(ticket.verified_attributes).length ? ticket.verified_attributes : null],
      ["Conversation", openButton("conversations", ticket.conversation_id, "Open the conversation")], ["Tracker", ticket.tracker_id], ["Rating", ticket.rating ? ticket.rating.score + "/5 " + (ticket.rating.comment || "") : null]]);
    showContext(ticket.context);
    showApproval(ticket);
    if (window.HelpdeskInboxTags) window.HelpdeskInboxTags.show("tickets", ticket); // tags.js
    if (window.HelpdeskInboxTranscript) window.HelpdeskInboxTranscript.show(ticket); // transcript.js
    var type = state.types[ticket.ticket_type_id];
    if (isEditing()) { renderTimeline(ticket); return; }  // don't overwrite what the agent is choosing
    var select = $("ticket-state");
    select.textContent = "";
    (type ? type.states : []).forEach(function (s) { select.appendChild(new Option(s.label + " (" + s.category + ")", s.id, false, s.id === ticket.state.id)); });
    $("ticket-priority").value = ticket.priority;
    $("ticket-title").value = ticket.title;
    $("ticket-team").value = ticket.team_id;
    fillAgents($("ticket-assignee"), ticket.team_id, "Unassigned", ticket.assignee_id).catch(fail);
    attributeForm($("ticket-attributes"), type, ticket.attributes);
    renderTimeline(ticket);
  }

  function renderTimeline(ticket) {
    var list = $("timeline");
    list.textContent = "";
    ticket.timeline.forEach(function (p) {
      list.appendChild(timelineEntry(p.author.name || p.author.type, p.body || (p.attachments.length ? "" : p.type), !p.visible_to_customer, p.author.type, p.created_at, p.attachments, p.id));
    });
    hook("ticketShown", ticket); // live hook: puts back what the agent was editing
  }

  /* The resolution (or next answer) due time and whether a clock is breached or close to it. */
  function slaText(ticket) {
    if (!ticket.sla_due_at) return null;
    var clocks = (ticket.sla && ticket.sla.clocks) || {};
    var breached = Object.keys(clocks).filter(function (name) { return clocks[name].breached_at && !clocks[name].stopped_at; });
    var warned = Object.keys(clocks).filter(function (name) { return clocks[name].warned_at && !clocks[name].stopped_at; });
    var due = new Date(ticket.sla_due_at);
    var late = due.getTime() < Date.now();
    var status = breached.length ? "breached (" + breached.join(", ").replace(/_/g, " ") + ")" : (late ? "overdue" : (warned.length ? "due soon" : "on track"));
    return "due " + when(ticket.sla_due_at) + " · " + status;
  }

  function showApproval(ticket) {
    var pending = ticket.approval && ticket.approval.status === "pending";
    $("approval").hidden = !pending;
    if (!pending) return;
    var type = state.types[ticket.ticket_type_id];
    var amount = ticket.attributes && ticket.attributes.amount;
    $("approval-text").textContent = "The workflow waits for a lead to approve or decline this " +
      (type ? type.name.toLowerCase() : "ticket") + (amount !== undefined ? " (amount " + amount + ")" : "") +
      ", asked " + when(ticket.approval.requested_at) + ".";
  }

  /* A control of the detail has focus: polling leaves the form alone while the agent is choosing. */
  function isEditing() {
    var active = document.activeElement;
    return !!(active && $("detail").contains(active) && /INPUT|TEXTAREA|SELECT/.test(active.tagName));
  }

  function attributeForm(container, type, values) {
    container.textContent = "";
    (type ? type.attributes : []).forEach(function (attribute) {
      if (attribute.type === "files") return;
      var label = el("label", null, attribute.label + (attribute.required ? " *" : ""));
      var input;
      if (attribute.type === "list") {
        input = el("select");
        input.appendChild(new Option("—", ""));
        attribute.options.forEach(function (o) { input.appendChild(new Option(o.label, o.id)); });
      } else if (attribute.type === "boolean") {
        input = el("input"); input.type = "checkbox";
      } else {
        input = el(attribute.type === "text" ? "textarea" : "input");
        if (attribute.type === "integer" || attribute.type === "decimal") input.inputMode = "decimal";
      }
      input.name = attribute.id;
      var value = values ? values[attribute.id] : undefined;
      if (input.type === "checkbox") input.checked = !!value; else if (value !== undefined) input.value = value;
      label.appendChild(input);
      container.appendChild(label);
    });
  }

  function readAttributes(container, type) {
    var values = {};
    (type ? type.attributes : []).forEach(function (attribute) {
      var input = container.querySelector("[name='" + attribute.id + "']");
      if (!input) return;
      if (attribute.type === "boolean") { values[attribute.id] = input.checked; return; }
      if (input.value === "") return;
      values[attribute.id] = attribute.type === "integer" ? Number(input.value) : input.value;
    });
    return values;
  }

  function renderConvertAttributes() {
    var type = state.types[$("convert-type").value];
    attributeForm($("convert-attributes"), type, null);
    if (type) $("convert-team").value = type.default_team;
  }
  $("convert-type").addEventListener("change", renderConvertAttributes);

  // --- actions -------------------------------------------------------------------------------------

  function act(promise) { return promise.then(function () { showStatus(""); loadDetail(); loadList(); }).catch(fail); }

  $("composer").addEventListener("submit", function (event) {
    event.preventDefault();
    var input = $("reply-input");
    var body = input.value.trim();
    var files = window.InboxComposerFiles; // static/composer-files.js: files waiting to go with it
    if (files && files.busy()) { showStatus("Wait for the files to finish uploading, or remove them."); return; }
    var attachmentIds = files ? files.ids() : [];
    if ((!body && !attachmentIds.length) || !state.selected) return;
    var path = "/inbox/" + state.kind + "/" + encodeURIComponent(state.selected) + "/replies";
    var internal = $("internal").checked;
    var payload = attachmentIds.length ? { body: body, internal: internal, attachment_ids: attachmentIds } : { body: body, internal: internal };
    // Clear at once so the next message can be written while this one is sent; restore on failure.
    input.value = "";
    if (!attachmentIds.length) $("internal").checked = false;
    act(api("POST", path, payload).then(function (answer) {
      if (files && attachmentIds.length) { files.clear(); $("internal").checked = false; }
      return answer;
    }, function (error) {
      input.value = body;
      $("internal").checked = internal;
      throw error;
    }));
  });

  $("assign").addEventListener("click", function () {
    var agent = $("assign-agent").value;
    act(api("POST", "/inbox/conversations/" + encodeURIComponent(state.selected) + "/assignment",
      agent ? { team_id: $("assign-team").value, assignee_id: agent } : { team_id: $("assign-team").value, auto_assign: true }));
  });
  $("assign-team").addEventListener("change", function () {
    fillAgents($("assign-agent"), $("assign-team").value, "Anyone online (routing picks)", null).catch(fail);
  });
  $("ticket-team").addEventListener("change", function () {
    fillAgents($("ticket-assignee"), $("ticket-team").value, "Unassigned", null).catch(fail);
  });

  /* When a snooze preset ends: in an hour, tomorrow at 9:00, or next Monday at 9:00 (the agent's clock). */
  function snoozeUntil(preset) {
    var at = new Date();
    if (preset === "hour") return new Date(at.getTime() + 3600 * 1000);
    if (preset === "at") {
      var picked = $("snooze-at").value;
      return picked ? new Date(picked) : null;
    }
    at.setHours(9, 0, 0, 0);
    if (preset === "tomorrow") at.setDate(at.getDate() + 1);
    if (preset === "week") at.setDate(at.getDate() + (((8 - at.getDay()) % 7) || 7));
    return at;
  }
  document.querySelectorAll("#snooze button").forEach(function (button) {
    button.addEventListener("click", function () {
      var until = snoozeUntil(button.dataset.snooze);
      if (!until || isNaN(until.getTime())) { showStatus("Pick a date and time to snooze until."); $("snooze-at").focus(); return; }
      if (until.getTime() <= Date.now()) { showStatus("Pick a time in the future to snooze until."); $("snooze-at").focus(); return; }
      act(api("POST", "/inbox/conversations/" + encodeURIComponent(state.selected) + "/status",
        { status: "snoozed", snoozed_until: until.toISOString() }).then(function () {
        showStatus("Snoozed until " + until.toLocaleString());
      }));
    });
  });

  function decide(decision) {
    var note = $("approval-note").value.trim();
    var body = note ? { decision: decision, note: note } : { decision: decision };
    act(api("POST", "/inbox/tickets/" + encodeURIComponent(state.ticket.id) + "/approval", body).then(function () {
      $("approval-note").value = "";
    }));
  }
  $("approve").addEventListener("click", function () { decide("approve"); });
  $("decline").addEventListener("click", function () { decide("reject"); });

  $("close-conversation").addEventListener("click", function () {
    act(api("POST", "/inbox/conversations/" + encodeURIComponent(state.selected) + "/status", { status: "closed" }));
  });
  $("reopen-conversation").addEventListener("click", function () {
    act(api("POST", "/inbox/conversations/" + encodeURIComponent(state.selected) + "/status", { status: "open" }));
  });
  $("request-verification").addEventListener("click", function () {
    act(api("POST", "/inbox/conversations/" + encodeURIComponent(state.selected) + "/verification-request"));
  });
  $("convert-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var typeId = $("convert-type").value;
    var request = { ticket_type_id: typeId, team_id: $("convert-team").value, attributes: readAttributes($("convert-attributes"), state.types[typeId]) };
    if ($("convert-title").value.trim()) request.title = $("convert-title").value.trim();
    api("POST", "/inbox/conversations/" + encodeURIComponent(state.selected) + "/ticket", request)
      .then(function (ticket) { showStatus(""); $("convert").open = false; showStatus("Ticket #" + ticket.number + " created"); loadDetail(); })
      .catch(fail);
  });
  $("ticket-save").addEventListener("click", function () {
    var ticket = state.ticket;
    var type = state.types[ticket.ticket_type_id];
    var change = { version: ticket.version };
    if ($("ticket-state").value !== ticket.state.id) change.state_id = $("ticket-state").value;
    if ($("ticket-priority").value !== ticket.priority) change.priority = $("ticket-priority").value;
    var title = $("ticket-title").value.trim();
    if (title && title !== ticket.title) change.title = title;
    if ($("ticket-team").value !== ticket.team_id) change.team_id = $("ticket-team").value;
    var assignee = $("ticket-assignee").value || null;
    if (assignee !== ticket.assignee_id) change.assignee_id = assignee;
    var attributes = changedAttributes(readAttributes($("ticket-attributes"), type), ticket.attributes || {}, type);
    if (Object.keys(attributes).length) change.attributes = attributes;
    if (Object.keys(change).length === 1) { showStatus("Nothing changed."); return; }
    act(api("PATCH", "/inbox/tickets/" + encodeURIComponent(ticket.id), change).then(function () { showStatus("Saved."); }));
  });

  /* Only the attributes the agent changed: an unticked box nobody set, or an empty field, is no change. */
  function changedAttributes(read, current, type) {
    var changed = {};
    (type ? type.attributes : []).forEach(function (attribute) {
      var id = attribute.id;
      if (!(id in read)) return;
      var before = current[id];
      if (attribute.type === "boolean" && before === undefined && read[id] === false) return;
      if (String(before) === String(read[id])) return;
      changed[id] = read[id];
    });
    return changed;
  }

  function refresh() {
    if (!state.token || hook("isLive")) return; // live hook: no polling while the live channel is up
    loadList();
    if (document.activeElement && /INPUT|TEXTAREA|SELECT/.test(document.activeElement.tagName) && state.kind === "tickets") return;
    loadDetail();
  }

  // What static/live.js uses of this page.
  window.HelpdeskInbox = {
    state: state, api: api, el: el, when: when, listItem: listItem, timelineEntry: timelineEntry,
    loadList: loadList, loadDetail: loadDetail, showStatus: showStatus, fail: fail, open: open, selectView: selectView,
  };

  // --- start ---------------------------------------------------------------------------------------

  fetch("config.json").then(function (r) { return r.ok ? r.json() : {}; }, function () { return {}; }).then(function (config) {
    state.config = config;
    if (config.title) { $("title").textContent = config.title + " inbox"; document.title = config.title + " inbox"; }
    var code = new URLSearchParams(location.search).get("code");
    if (code && config.sign_in === "cognito") return finishCognitoSignIn(code).then(start, function (e) { fail(e); showSignIn(); });
    var saved = sessionStorage.getItem(TOKEN_KEY);
    if (saved) return start(saved);
    showSignIn();
    document.body.dataset.ready = "true";
  });
})();
