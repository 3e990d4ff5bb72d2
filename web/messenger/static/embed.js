/* Embeds the messenger in a business's site with one script tag:
 *
 *   <script src="https://<messenger host>/messenger/static/embed.js" async></script>
 *   <script>
 *     window.helpdeskSettings = {
 *       token: "<customer JWT signed by your backend>",        // omit for anonymous visitors
 *       context: { object: { type: "order", id: "ORD-1001" } },  // what the customer is looking at
 *       getToken: function () { return fetch("/support-token").then(r => r.text()); } // fresh token on demand
 *     };
 *   </script>
 *
 * A launcher button opens the messenger in an iframe; the token and context go to it by postMessage
 * (never in its URL), and the messenger asks getToken() when an agent needs the customer verified.
 * The messenger only listens to sites on its workspace's allow-list (`messenger_origins` in
 * workspace.yaml): add this site's origin there, or the messenger runs as an anonymous visitor.
 * The page's address goes along as context without its fragment (which may carry a token); the
 * messenger's API also drops query parameters named like secrets (token, code, key, signature...).
 */
(function () {
  "use strict";
  if (window.HelpdeskMessenger) return;
  var script = document.currentScript;
  var messengerUrl = (script && script.dataset.messengerUrl) || new URL("../", script ? script.src : location.href).href;
  var messengerOrigin = new URL(messengerUrl).origin;
  var frame = null;
  var launcher = null;

  function settings() { return window.helpdeskSettings || {}; }

  function pageContext() {
    var given = settings().context || {};
    var context = {
      page_url: location.origin + location.pathname + location.search,
      page_title: document.title,
      referrer: document.referrer || undefined,
      locale: navigator.language,
    };
    try { context.time_zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { /* ignore */ }
    Object.keys(given).forEach(function (key) { context[key] = given[key]; });
    return context;
  }

  function post(message) { if (frame && frame.contentWindow) frame.contentWindow.postMessage(message, messengerOrigin); }

  window.addEventListener("message", function (event) {
    if (!frame || event.source !== frame.contentWindow || event.origin !== messengerOrigin || !event.data) return;
    if (event.data.type === "helpdesk:ready") {
      post({ type: "helpdesk:boot", token: settings().token || null, context: pageContext() });
    } else if (event.data.type === "helpdesk:token-request") {
      var getToken = settings().getToken;
      Promise.resolve(getToken ? getToken() : settings().token)
        .then(function (token) { post({ type: "helpdesk:token", token: token || null }); },
              function () { post({ type: "helpdesk:token", token: null }); });
    }
  });

  function open() {
    if (!frame) {
      frame = document.createElement("iframe");
      frame.src = messengerUrl;
      frame.title = "Support messenger";
      frame.setAttribute("allow", "clipboard-write");
      frame.style.cssText = "position:fixed;bottom:88px;right:16px;width:min(400px,calc(100vw - 32px));" +
        "height:min(640px,calc(100vh - 110px));border:0;border-radius:14px;box-shadow:0 8px 30px rgba(0,0,0,.25);" +
        "z-index:2147483646;background:#fff";
      document.body.appendChild(frame);
    } else {
      frame.hidden = !frame.hidden;
    }
    launcher.setAttribute("aria-expanded", String(!frame.hidden));
  }

  function chatIcon() {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "28");
    svg.setAttribute("height", "28");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var bubble = document.createElementNS(ns, "path");
    bubble.setAttribute("d", "M4 5.5A2.5 2.5 0 016.5 3h11A2.5 2.5 0 0120 5.5v8a2.5 2.5 0 01-2.5 2.5H10l-4.5 4v-4h0A2.5 2.5 0 014 13.5z");
    bubble.setAttribute("fill", "none");
    bubble.setAttribute("stroke", "currentColor");
    bubble.setAttribute("stroke-width", "2");
    bubble.setAttribute("stroke-linejoin", "round");
    svg.appendChild(bubble);
    return svg;
  }

  function mount() {
    launcher = document.createElement("button");
    launcher.type = "button";
    launcher.appendChild(chatIcon());
    launcher.setAttribute("aria-label", "Open support messenger");
    launcher.setAttribute("aria-expanded", "false");
    launcher.style.cssText = "position:fixed;bottom:16px;right:16px;width:60px;height:60px;border-radius:50%;border:0;" +
      "background:#2357d6;color:#fff;display:inline-flex;align-items:center;justify-content:center;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25);z-index:2147483647";
    launcher.addEventListener("click", open);
    document.body.appendChild(launcher);
  }

  window.HelpdeskMessenger = { open: open };
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);
})();
