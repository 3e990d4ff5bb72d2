/* The hosted messenger: chat, tickets space, CSAT and preferences, talking to the messenger API.
 *
 * Identity comes from the embedding app (embed.js posts {type: "helpdesk:boot", token, context}),
 * from "#token=<jwt>" in the URL, from a link in an email ("?ticket=<id>&link=<token>", exchanged
 * once for a session of that customer, kept for this tab), or else the messenger asks the API for an
 * anonymous visitor token.
 *
 * Trust: only the sites on the workspace's allow-list (config.json's messenger_origins; "self" is
 * this page's own origin) are talked to by postMessage, and only their messages are read. The
 * anonymous history kept in this browser (the visitor token) moves into a signed-in account only
 * when such a site boots the messenger with its customer's token, or when the person confirms it
 * here; never because a token arrived in the address, which anyone can put in a link. An email
 * session never takes a visitor's history either.
 *
 * Everything a person wrote is rendered with textContent: a message is text, never markup.
 */
(function () {
  "use strict";

  var POLL_MS = 2000;
  var BOOT_WAIT_MS = 1200;
  var VISITOR_KEY = "helpdesk.visitorToken";
  var EMAIL_SESSION_KEY = "helpdesk.emailSession";

  var state = {
    apiBase: "",
    token: null,
    isVisitor: false,
    context: null,
    conversationId: null,
    shownId: null,
    cursor: null,
    seen: {},
    pollTimer: null,
    openTicketId: null,
    emailSession: false,
    link: null,
    linkSession: null,
    linkProblem: null,
    tokenWaiters: [],
    trustedOrigins: [],
    embedded: window.parent && window.parent !== window,
  };

  function $(id) { return document.getElementById(id); }

  /** This browser's storage (the visitor token; for this tab, an email session); in memory when the
   * browser denies storage to an embedded page (third-party storage blocked), so the messenger still
   * works, for this visit only. */
  function keptIn(kind) {
    var memory = {};
    function storage() { try { return window[kind]; } catch (e) { return null; } }
    return {
      get: function (key) { try { var s = storage(); return (s && s.getItem(key)) || memory[key] || null; } catch (e) { return memory[key] || null; } },
      set: function (key, value) { memory[key] = value; try { var s = storage(); if (s) s.setItem(key, value); } catch (e) { /* memory only */ } },
      remove: function (key) { delete memory[key]; try { var s = storage(); if (s) s.removeItem(key); } catch (e) { /* memory only */ } },
    };
  }
  var kept = keptIn("localStorage");
  var keptForTab = keptIn("sessionStorage");

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function showStatus(text) { $("status").textContent = text || ""; }

  /** The live channel and the home plug in here (home.js, messenger-live.js): hook(name, ...args). */
  function hook(name) {
    var modules = [window.HelpdeskHome, window.HelpdeskMessengerLive];
    var args = Array.prototype.slice.call(arguments, 1);
    var answer;
    modules.forEach(function (module) { if (module && module[name]) answer = module[name].apply(null, args); });
    return answer;
  }

  function timeOf(iso) {
    var time = document.createElement("time");
    time.dateTime = iso;
    var at = new Date(iso);
    var sameDay = at.toDateString() === new Date().toDateString();
    try {
      time.textContent = sameDay ? at.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })
        : at.toLocaleString([], { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
    } catch (e) { time.textContent = iso; }
    time.title = formatTime(iso);
    return time;
  }

  function formatTime(iso) {
    try { return new Date(iso).toLocaleString([], { dateStyle: "medium", timeStyle: "short" }); }
    catch (e) { return iso; }
  }

  // --- API -----------------------------------------------------------------------------------------

  function api(method, path, body, tokenOverride) {
    var headers = { "Accept": "application/json" };
    var token = tokenOverride || state.token;
    if (token) headers["Authorization"] = "Bearer " + token;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    return fetch(state.apiBase + path, {
      method: method,
      headers: headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then(function (response) {
      return response.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { data = { message: text }; }
        if (!response.ok) {
          var error = new Error((data && data.message) || ("Request failed (" + response.status + ")"));
          error.status = response.status;
          error.details = data && data.details;
          error.code = data && data.error;
          error.renewable = !!(data && data.renewable);
          throw error;
        }
        return data;
      });
    });
  }

  function explain(error) {
    if (error.details && error.details.length) {
      return error.message + ": " + error.details.map(function (d) { return d.field + " " + d.message; }).join("; ");
    }
    return error.message;
  }

  // --- identity ------------------------------------------------------------------------------------

  function tokenFromHash() {
    var match = /(?:^|[#&])token=([^&]+)/.exec(window.location.hash);
    if (!match) return null;
    history.replaceState(null, "", window.location.pathname + window.location.search);
    return decodeURIComponent(match[1]);
  }

  /** The sites allowed to embed the messenger, as origins ("self" is this page's own). */
  function trustOrigins(origins) {
    state.trustedOrigins = (origins || []).map(function (origin) { return origin === "self" ? window.location.origin : origin; });
  }

  function fromTrustedParent(event) {
    return event.source === window.parent && state.trustedOrigins.indexOf(event.origin) >= 0 && !!event.data;
  }

  /** postMessage to the embedding site, if it is one of the trusted ones; any other parent hears nothing. */
  function tellParent(message) {
    state.trustedOrigins.forEach(function (origin) { window.parent.postMessage(message, origin); });
  }

  function waitForBoot() {
    return new Promise(function (resolve) {
      if (!state.embedded || !state.trustedOrigins.length) { resolve(null); return; }
      var done = false;
      function onMessage(event) {
        if (!fromTrustedParent(event) || event.data.type !== "helpdesk:boot") return;
        done = true;
        window.removeEventListener("message", onMessage);
        resolve(event.data);
      }
      window.addEventListener("message", onMessage);
      tellParent({ type: "helpdesk:ready" });
      setTimeout(function () { if (!done) { window.removeEventListener("message", onMessage); resolve(null); } }, BOOT_WAIT_MS);
    });
  }

  /** Ask the embedding app for a freshly signed token (in-app verification, or an expired one). */
  function requestFreshToken() {
    if (!state.embedded || !state.trustedOrigins.length) return Promise.reject(new Error("Open the messenger from the app to confirm it's you."));
    return new Promise(function (resolve, reject) {
      state.tokenWaiters.push({ resolve: resolve, reject: reject });
      tellParent({ type: "helpdesk:token-request" });
      setTimeout(function () { reject(new Error("The app did not answer in time.")); }, 10000);
    });
  }

  window.addEventListener("message", function (event) {
    if (!fromTrustedParent(event) || event.data.type !== "helpdesk:token") return;
    var waiters = state.tokenWaiters.splice(0);
    waiters.forEach(function (w) { if (event.data.token) w.resolve(event.data.token); else w.reject(new Error("No token")); });
  });

  /** This page's address as context: never its fragment, which may hold a token. */
  function pageAddress() {
    return window.location.origin + window.location.pathname + window.location.search;
  }

  function defaultContext() {
    var context = {
      page_url: document.referrer || pageAddress(),
      locale: navigator.language,
      device: /Mobi/.test(navigator.userAgent) ? "mobile" : "desktop",
      os: navigator.platform || undefined,
    };
    try { context.time_zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { /* older browsers */ }
    return context;
  }

  // A link in an email: "?ticket=<id>&link=<token>" (or "?conversation="), usable once.
  function linkFromUrl() {
    var query = new URLSearchParams(window.location.search);
    var link = query.get("link");
    if (!link) return null;
    query.delete("link");
    query.delete("score");
    var rest = query.toString();
    history.replaceState(null, "", window.location.pathname + (rest ? "?" + rest : "") + window.location.hash);
    return { link: link, ticket_id: query.get("ticket"), conversation_id: query.get("conversation") };
  }

  function exchangeLink(found) {
    return api("POST", "/messenger/links", found).then(function (session) {
      state.token = session.session_token;
      state.emailSession = true;
      state.linkSession = session;
      keptForTab.set(EMAIL_SESSION_KEY, session.session_token);
    }, function (error) {
      state.linkProblem = error;
    });
  }

  /** Who a customer token names, for the person to check before moving their history (display only). */
  function accountName(token) {
    try {
      var payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      var claims = JSON.parse(decodeURIComponent(escape(atob(payload))));
      return claims.name && claims.email ? claims.name + " (" + claims.email + ")" : claims.name || claims.email || "this account";
    } catch (e) { return "this account"; }
  }

  function mergeVisitorHistory(visitorToken) {
    return api("POST", "/messenger/identify", { visitor_token: visitorToken })
      .catch(function () { /* an expired visitor token just means nothing to merge */ })
      .then(function () { kept.remove(VISITOR_KEY); });
  }

  /** A token from the address: offer to move this browser's anonymous conversations, never do it unasked. */
  function offerMerge(visitorToken) {
    return api("GET", "/messenger/conversations?limit=1", undefined, visitorToken).then(function (list) {
      if (!list || !(list.items || []).length) return;
      $("merge-text").textContent = "You're signed in as " + accountName(state.token) + ". You chatted with us " +
        "earlier without signing in: move those conversations to this account?";
      $("merge-box").hidden = false;
    }, function () { /* an expired visitor token: nothing to offer */ });
  }

  $("merge-button").addEventListener("click", function () {
    var visitorToken = kept.get(VISITOR_KEY);
    $("merge-box").hidden = true;
    if (!visitorToken) return;
    mergeVisitorHistory(visitorToken).then(resumeConversation).then(function () {
      if (state.conversationId) startPolling();
      if (window.HelpdeskHome) return window.HelpdeskHome.reload(); // the moved conversations join the home's list
    });
  });

  $("merge-dismiss").addEventListener("click", function () { $("merge-box").hidden = true; });

  function identify(boot) {
    var bootToken = boot && boot.token;
    var token = bootToken || tokenFromHash();
    // The link's token leaves the address first, so the page address in the context never carries it.
    state.link = state.link || linkFromUrl();
    state.context = (boot && boot.context) || defaultContext();
    if (!token && state.link && !state.linkSession && !state.linkProblem) {
      return exchangeLink(state.link).then(function () { return state.token ? null : identify(boot); });
    }
    var emailSession = !token && keptForTab.get(EMAIL_SESSION_KEY);
    if (emailSession) { state.token = emailSession; state.emailSession = true; return Promise.resolve(); }
    if (token) {
      state.token = token;
      var visitorToken = kept.get(VISITOR_KEY);
      if (!visitorToken) return Promise.resolve();
      // The app the customer signed in to handed us their token: their anonymous history becomes theirs.
      if (bootToken) return mergeVisitorHistory(visitorToken);
      return offerMerge(visitorToken);
    }
    state.isVisitor = true;
    var stored = kept.get(VISITOR_KEY);
    if (stored) { state.token = stored; return Promise.resolve(); }
    return api("POST", "/messenger/visitors").then(function (visitor) {
      state.token = visitor.visitor_token;
      kept.set(VISITOR_KEY, visitor.visitor_token);
    });
  }

  // --- conversation --------------------------------------------------------------------------------

  function renderMessage(message) {
    if (state.seen[message.id]) return;
    state.seen[message.id] = true;
    var kind = message.kind || "text";
    var item = el("li", "message " + (message.author.type || "") + (kind === "kb_answer" ? " kb-answer" : ""));
    item.dataset.id = message.id;
    if (kind === "identity_verified") {
      item.className = "message event";
      item.textContent = "✔ " + message.body;
    } else {
      var who = message.author.type === "customer" ? "You" : (message.author.name || (message.author.type === "bot" ? "Bot" : "Support"));
      var head = el("span", "who", who + " · ");
      head.appendChild(timeOf(message.created_at));
      item.appendChild(head);
      if (message.body && kind === "kb_answer" && window.HelpdeskMarkdown) {
        item.appendChild(window.HelpdeskMarkdown.render(message.body, function (id) { hook("openArticle", id); }));
      } else if (message.body) {
        item.appendChild(el("span", "body", message.body));
      }
      (message.attachments || []).forEach(function (attachment, index) {
        if (message.body || index) item.appendChild(document.createElement("br"));
        item.appendChild(attachmentButton(attachment));
      });
    }
    // In id (time) order, whichever way it came: an answer, a poll or a live frame.
    var later = Array.prototype.filter.call($("messages").children, function (li) { return li.dataset.id > message.id; })[0];
    $("messages").insertBefore(item, later || null);
    item.scrollIntoView({ block: "end" });
    if (!later) renderOptions(message);
    if (kind === "verification_request") $("verify-box").hidden = false;
    if (kind === "identity_verified") $("verify-box").hidden = true;
  }

  function attachmentButton(attachment) {
    // The visible text is the accessible name (axe: label-content-name-mismatch).
    var button = el("button", "link", "Download " + attachment.filename);
    button.type = "button";
    button.addEventListener("click", function () {
      api("GET", "/messenger/attachments/" + encodeURIComponent(attachment.id))
        .then(function (download) { window.open(download.url, "_blank", "noopener"); })
        .catch(function (error) { showStatus(explain(error)); });
    });
    return button;
  }

  function renderOptions(message) {
    var box = $("options");
    box.textContent = "";
    var options = message.options || [];
    box.hidden = options.length === 0;
    options.forEach(function (option) {
      var button = el("button", null, option.label);
      button.type = "button";
      button.addEventListener("click", function () {
        box.hidden = true;
        send({ body: option.label, option_id: option.id });
      });
      box.appendChild(button);
    });
    // However many quick replies there are, the question they answer stays in view.
    var question = $("messages").lastElementChild;
    if (question && options.length) question.scrollIntoView({ block: "nearest" });
  }

  function showConversation(conversation) {
    if (state.shownId !== conversation.id) {
      state.seen = {};
      $("messages").textContent = "";
      state.cursor = null;
    }
    state.shownId = conversation.id;
    state.conversationId = conversation.id;
    (conversation.messages || []).forEach(renderMessage);
    if (conversation.next_cursor) state.cursor = conversation.next_cursor;
    hook("conversationShown", conversation);
    endIfClosed(conversation);
  }

  /** The thread (messages) or the home in the chat panel. */
  function showThread(shown) {
    $("home").hidden = shown;
    $("messages").hidden = !shown;
    $("thread-bar").hidden = !shown;
    if (!shown) { $("options").hidden = true; hook("homeShown"); }
    else hook("threadShown", state.conversationId);
  }

  /** Open a conversation of the customer's (from the home list). */
  function openConversation(conversationId) {
    return api("GET", "/messenger/conversations/" + encodeURIComponent(conversationId)).then(function (conversation) {
      showConversation(conversation); // a closed one shows too; the next message starts a new one
      showThread(true);
    }).catch(function (error) { showStatus(explain(error)); });
  }

  function endIfClosed(conversation) {
    // Resolved (by the bot or an agent): the next message starts a new conversation.
    if (conversation.status !== "closed") return;
    state.conversationId = null;
    state.cursor = null;
  }

  function resumeConversation() {
    return api("GET", "/messenger/conversations?limit=5").then(function (list) {
      var open = (list.items || []).filter(function (c) { return c.status === "open" || c.status === "bot"; })[0];
      if (!open) return;
      return api("GET", "/messenger/conversations/" + encodeURIComponent(open.id)).then(showConversation);
    });
  }

  function poll() {
    if (!state.conversationId || hook("isLive")) return Promise.resolve();
    var query = state.cursor ? "?after=" + encodeURIComponent(state.cursor) : "";
    return api("GET", "/messenger/conversations/" + encodeURIComponent(state.conversationId) + query)
      .then(function (page) {
        (page.messages || []).forEach(renderMessage);
        if (page.next_cursor) state.cursor = page.next_cursor;
        endIfClosed(page);
        showStatus("");
      })
      .catch(function (error) { if (error.status === 401) return refreshToken(); showStatus(explain(error)); });
  }

  function refreshToken() {
    if (state.emailSession) {
      keptForTab.remove(EMAIL_SESSION_KEY);
      showStatus("The session opened from your email has ended: open a link from a newer email to carry on.");
      return Promise.resolve();
    }
    if (state.isVisitor) { kept.remove(VISITOR_KEY); return identify(null); }
    return requestFreshToken().then(function (token) { state.token = token; }, function (error) { showStatus(error.message); });
  }

  function startPolling() {
    if (state.pollTimer) return;
    state.pollTimer = setInterval(poll, POLL_MS);
  }

  function send(payload) {
    var request;
    if (!state.conversationId) {
      var first = { body: payload.body || "", context: state.context, attachment_ids: payload.attachment_ids || [] };
      if (payload.option_id) first.option_id = payload.option_id;
      request = api("POST", "/messenger/conversations", first).then(showConversation);
    } else {
      request = api("POST", "/messenger/conversations/" + encodeURIComponent(state.conversationId) + "/messages", payload)
        .then(function (message) { renderMessage(message); return poll(); });
    }
    return request.then(function () { showStatus(""); showThread(true); startPolling(); }, function (error) { showStatus(explain(error)); throw error; });
  }

  $("composer").addEventListener("submit", function (event) {
    event.preventDefault();
    var input = $("message-input");
    var body = input.value.trim();
    if (!body) return;
    input.disabled = true;
    send({ body: body }).then(function () { input.value = ""; }, function () { /* kept for a retry */ })
      .then(function () { input.disabled = false; input.focus(); });
  });

  $("message-input").addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); $("composer").requestSubmit(); }
  });

  // --- uploads -------------------------------------------------------------------------------------

  function uploadFile(file) {
    var box = $("upload");
    var bar = $("upload-progress");
    return api("POST", "/messenger/attachments", { filename: file.name, content_type: file.type, size: file.size })
      .then(function (started) {
        return new Promise(function (resolve, reject) {
          var form = new FormData();
          Object.keys(started.upload.fields).forEach(function (name) { form.append(name, started.upload.fields[name]); });
          form.append("file", file);
          var request = new XMLHttpRequest();
          request.open("POST", started.upload.url);
          box.hidden = false;
          $("upload-label").textContent = "Uploading " + file.name;
          bar.value = 0;
          request.upload.addEventListener("progress", function (event) {
            if (event.lengthComputable) bar.value = Math.round((event.loaded / event.total) * 100);
          });
          request.onload = function () {
            if (request.status >= 200 && request.status < 300) { bar.value = 100; resolve(started.attachment_id); }
            else reject(new Error("The upload was refused (" + request.status + ")"));
          };
          request.onerror = function () { reject(new Error("The upload failed: check your connection")); };
          request.send(form);
        });
      })
      .then(function (attachmentId) {
        var input = $("message-input");
        var body = input.value.trim();
        return send({ body: body, attachment_ids: [attachmentId] }).then(function () { input.value = ""; });
      })
      .catch(function (error) { showStatus(explain(error)); })
      .then(function () { box.hidden = true; });
  }

  $("attach").addEventListener("change", function (event) {
    var file = event.target.files && event.target.files[0];
    event.target.value = "";
    if (file) uploadFile(file);
  });

  // --- in-app verification -------------------------------------------------------------------------

  $("verify-button").addEventListener("click", function () {
    requestFreshToken()
      .then(function (token) {
        state.token = token;
        return api("POST", "/messenger/conversations/" + encodeURIComponent(state.conversationId) + "/verify", undefined, token);
      })
      .then(function (message) { renderMessage(message); })
      .catch(function (error) { showStatus(explain(error)); });
  });

  // --- tickets space -------------------------------------------------------------------------------

  function loadTickets() {
    $("ticket-detail").hidden = true;
    var list = $("ticket-list");
    list.hidden = false;
    return api("GET", "/messenger/tickets").then(function (page) {
      list.textContent = "";
      if (!page.items.length) { list.appendChild(el("li", "empty", "You have no tickets. We open one when your request needs more work.")); return; }
      page.items.forEach(function (ticket) {
        var item = el("li");
        var button = el("button");
        button.type = "button";
        button.dataset.ticketId = ticket.id;
        button.appendChild(el("span", "number", "#" + ticket.number + " · updated " + formatTime(ticket.updated_at)));
        button.appendChild(document.createElement("br"));
        button.appendChild(el("strong", "title", ticket.title));
        button.appendChild(document.createTextNode(" "));
        button.appendChild(el("span", "label", ticket.state.label));
        button.addEventListener("click", function () { openTicket(ticket.id); });
        item.appendChild(button);
        list.appendChild(item);
      });
    }).catch(function (error) { showStatus(explain(error)); });
  }

  function describePart(part) {
    switch (part.type) {
      case "created": return part.body;
      case "state_change": return part.body;
      case "rating": return "You rated " + (part.changes && part.changes.score) + "/5" + (part.body ? ": " + part.body : "");
      case "attribute_change": return "Details updated";
      case "attachment": return part.body || "Files shared";
      default: return part.body || part.type;
    }
  }

  function openTicket(ticketId) {
    if (state.openTicketId !== ticketId && window.HelpdeskTicketFiles) window.HelpdeskTicketFiles.clear();
    state.openTicketId = ticketId;
    return api("GET", "/messenger/tickets/" + encodeURIComponent(ticketId)).then(function (ticket) {
      $("ticket-list").hidden = true;
      $("ticket-detail").hidden = false;
      $("ticket-heading").textContent = "#" + ticket.number + " " + ticket.title;
      $("ticket-state").textContent = ticket.state.label;
      var attributes = $("ticket-attributes");
      attributes.textContent = "";
      Object.keys(ticket.attributes).forEach(function (key) {
        var value = ticket.attributes[key];
        attributes.appendChild(el("dt", null, key.replace(/_/g, " ")));
        attributes.appendChild(el("dd", null, Array.isArray(value) ? value.length + " file(s)" : value));
      });
      var timeline = $("ticket-timeline");
      timeline.textContent = "";
      ticket.timeline.forEach(function (part) {
        var item = el("li");
        item.dataset.partId = part.id;
        item.appendChild(el("span", "when", formatTime(part.created_at) + " · " + (part.author.type === "customer" ? "You" : (part.author.name || "Support"))));
        item.appendChild(el("span", "body", describePart(part)));
        (part.attachments || []).forEach(function (a) { item.appendChild(document.createElement("br")); item.appendChild(attachmentButton(a)); });
        timeline.appendChild(item);
      });
      var resolved = ticket.state.category === "resolved";
      $("csat").hidden = !resolved || !!ticket.rating;
      $("csat-done").hidden = !ticket.rating;
      if (ticket.rating) $("csat-done").textContent = "Thanks! You rated this " + ticket.rating.score + "/5.";
      $("ticket-heading").focus && $("ticket-heading").setAttribute("tabindex", "-1");
      hook("ticketShown", ticket);
    }).catch(function (error) { showStatus(explain(error)); });
  }

  $("ticket-back").addEventListener("click", function () { state.openTicketId = null; hook("ticketShown", null); loadTickets(); });
  $("back-home").addEventListener("click", function () { showThread(false); });

  $("ticket-reply").addEventListener("submit", function (event) {
    event.preventDefault();
    var input = $("ticket-reply-input");
    var body = input.value.trim();
    var files = window.HelpdeskTicketFiles; // static/ticket-files.js: files waiting to go with it
    if (files && files.busy()) { showStatus("Wait for the files to finish uploading, or remove them."); return; }
    var attachmentIds = files ? files.ids() : [];
    if ((!body && !attachmentIds.length) || !state.openTicketId) return;
    api("POST", "/messenger/tickets/" + encodeURIComponent(state.openTicketId) + "/replies", { body: body, attachment_ids: attachmentIds })
      .then(function () { input.value = ""; if (files) files.clear(); return openTicket(state.openTicketId); })
      .catch(function (error) { showStatus(explain(error)); });
  });

  $("csat").addEventListener("submit", function (event) {
    event.preventDefault();
    var chosen = document.querySelector("#csat input[name=score]:checked");
    if (!chosen) { showStatus("Choose a score from 1 to 5."); return; }
    api("POST", "/messenger/tickets/" + encodeURIComponent(state.openTicketId) + "/rating", {
      score: Number(chosen.value),
      comment: $("csat-comment").value.trim() || null,
    }).then(function () { return openTicket(state.openTicketId); }).catch(function (error) { showStatus(explain(error)); });
  });

  // --- preferences ---------------------------------------------------------------------------------

  function loadPreferences() {
    return api("GET", "/messenger/preferences").then(function (prefs) {
      var form = $("preferences");
      ["messenger", "email", "sms"].forEach(function (name) { form.elements[name].checked = !!prefs[name]; });
    }).catch(function (error) { showStatus(explain(error)); });
  }

  $("preferences").addEventListener("submit", function (event) {
    event.preventDefault();
    var form = event.target;
    api("PUT", "/messenger/preferences", {
      messenger: form.elements.messenger.checked,
      email: form.elements.email.checked,
      sms: form.elements.sms.checked,
    }).then(function () { showStatus(""); $("status").textContent = ""; }).catch(function (error) { showStatus(explain(error)); });
  });

  // --- tabs ----------------------------------------------------------------------------------------

  var tabs = [["tab-chat", "panel-chat"], ["tab-tickets", "panel-tickets"], ["tab-settings", "panel-settings"]];
  function selectTab(tabId) {
    tabs.forEach(function (pair) {
      var selected = pair[0] === tabId;
      $(pair[0]).setAttribute("aria-selected", String(selected));
      $(pair[0]).tabIndex = selected ? 0 : -1;
      $(pair[1]).hidden = !selected;
    });
    if (tabId === "tab-tickets") loadTickets();
    if (tabId === "tab-settings") loadPreferences();
    hook("tabShown", tabId);
  }
  tabs.forEach(function (pair, index) {
    var tab = $(pair[0]);
    tab.addEventListener("click", function () { selectTab(pair[0]); });
    tab.addEventListener("keydown", function (event) {
      var step = event.key === "ArrowRight" ? 1 : event.key === "ArrowLeft" ? -1 : 0;
      if (!step) return;
      var next = tabs[(index + step + tabs.length) % tabs.length][0];
      selectTab(next);
      $(next).focus();
    });
  });

  // A status-update email or SMS links here with ?ticket=<id>: open that ticket straight away.
  function openLinkedTicket() {
    if (state.linkProblem) return explainLink(state.linkProblem);
    var session = state.linkSession;
    if (session && session.conversation_id) return openLinkedConversation(session.conversation_id);
    var ticketId = (session && session.ticket_id) || new URLSearchParams(window.location.search).get("ticket");
    if (!ticketId) return;
    selectTab("tab-tickets");
    return openTicket(ticketId).then(function () {
      if (!session) return;
      if (session.rating) {
        $("csat").hidden = true;
        $("csat-done").hidden = false;
        $("csat-done").textContent = (session.rated_now ? "Thanks! You rated this " : "You had already rated this ") +
          session.rating.score + "/5. Anything to add? Reply below.";
        $("ticket-reply-input").placeholder = "Anything to add? (optional)";
        $("ticket-reply-input").focus();
      }
      if (session.purpose === "unsubscribe") return stopStatusEmails();
    }).catch(function (error) { showStatus(explain(error)); });
  }

  // "Stop status emails" in an email (or the mail client's unsubscribe button): email off, the rest kept.
  function stopStatusEmails() {
    return api("GET", "/messenger/preferences").then(function (prefs) {
      prefs.email = false;
      return api("PUT", "/messenger/preferences", prefs);
    }).then(function () {
      showLinkNotice("You won't get status emails any more. You can turn them back on in Settings.", false);
    });
  }

  function openLinkedConversation(conversationId) {
    selectTab("tab-chat");
    $("messages").textContent = "";
    state.seen = {};
    return api("GET", "/messenger/conversations/" + encodeURIComponent(conversationId)).then(showConversation);
  }

  function showLinkNotice(text, renewable) {
    $("link-notice-text").textContent = text;
    $("link-renew").hidden = !renewable;
    $("link-notice").hidden = false;
  }

  function explainLink(error) {
    var text = {
      link_expired: "This link has expired: links in our emails work for a few days.",
      link_used: "This link was already used: each link in our emails opens once.",
    }[error.code] || "This link doesn't open anything here. Check that it was copied whole.";
    showLinkNotice(text + (error.renewable ? " We can email you a new one." : ""), error.renewable);
  }

  $("link-renew").addEventListener("click", function () {
    var found = state.link;
    if (!found) return;
    $("link-renew").disabled = true;
    api("POST", "/messenger/links/renewals", {
      ticket_id: found.ticket_id, conversation_id: found.conversation_id, link: found.link, locale: navigator.language,
    }).then(function (answer) {
      showLinkNotice(answer.message, false);
    }, function (error) { $("link-renew").disabled = false; showStatus(explain(error)); });
  });

  // --- what home.js and messenger-live.js use ------------------------------------------------------

  window.HelpdeskMessengerPage = {
    state: state, api: api, el: el, explain: explain, showStatus: showStatus, timeOf: timeOf,
    renderMessage: renderMessage, showConversation: showConversation, openConversation: openConversation,
    showThread: showThread, send: send, poll: poll, openTicket: openTicket, loadTickets: loadTickets,
    selectTab: selectTab, describePart: describePart, attachmentButton: attachmentButton, formatTime: formatTime,
    tellParent: tellParent,
  };

  // --- start ---------------------------------------------------------------------------------------

  fetch("config.json").then(function (r) { return r.ok ? r.json() : {}; }, function () { return {}; })
    .then(function (config) {
      state.apiBase = (config.api_base || "").replace(/\/$/, "");
      state.liveUrl = config.live_url || null;
      trustOrigins(config.messenger_origins);
      if (config.title) { $("title").textContent = config.title; document.title = config.title; }
      return waitForBoot();
    })
    .then(identify)
    .then(resumeConversation)
    .then(openLinkedTicket)
    .then(function () { hook("ready"); if (state.conversationId) startPolling(); document.body.dataset.ready = "true"; })
    .catch(function (error) { showStatus(explain(error)); document.body.dataset.ready = "true"; });
})();
