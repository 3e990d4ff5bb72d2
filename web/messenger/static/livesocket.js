/* The live channel's client, shared by the messenger and the inbox pages.
 *
 * One WebSocket to the live channel (API Gateway's WebSocket API; locally ws://<host>/live). The token
 * rides in Sec-WebSocket-Protocol beside "helpdesk-live", never in the address. Frames are
 * {"id", "type", "data"}: each is handed to onFrame once (a frame delivered twice has the same id and
 * is dropped). The socket reconnects by itself with growing pauses; onState tells the page whether it
 * is "live" or "down" (the page polls while down), and onResume runs after every reconnect so the page
 * catches up on what changed meanwhile (through the APIs, from its own cursors).
 *
 * A diagnostic switch: localStorage "helpdesk.liveOnly" = "1" makes pages never fall back to polling.
 */
(function () {
  "use strict";

  var PROTOCOL = "helpdesk-live";
  var PING_MS = 4 * 60 * 1000; // API Gateway drops a connection after 10 minutes without a client message
  var BACKOFF_MS = [500, 1000, 2000, 5000, 10000, 15000];
  var SEEN_LIMIT = 2000;
  var TYPING_MS = 3000;

  function socketUrl(configured) {
    if (/^wss?:\/\//.test(configured)) return configured;
    var scheme = location.protocol === "https:" ? "wss:" : "ws:";
    return scheme + "//" + location.host + (configured || "/live");
  }

  function LiveSocket(options) {
    this.options = options;
    this.url = socketUrl(options.url);
    this.socket = null;
    this.attempt = 0;
    this.seen = {};
    this.seenOrder = [];
    this.watching = null;
    this.typedAt = {};
    this.state = "down";
    this.stopped = false;
    this.everOpen = false;
    this.timer = null;
    this.pinger = null;
  }

  LiveSocket.prototype.start = function () {
    this.stopped = false;
    this.connect();
    return this;
  };

  LiveSocket.prototype.connect = function () {
    var self = this;
    var token = self.options.token();
    if (!token || self.stopped) return;
    var url = self.url + (self.options.query ? "?" + self.options.query() : "");
    var socket;
    try {
      socket = new WebSocket(url, [PROTOCOL, token]);
    } catch (error) {
      self.retry();
      return;
    }
    self.socket = socket;
    socket.onopen = function () {
      var resumed = self.everOpen;
      self.attempt = 0;
      self.everOpen = true;
      self.setState("live");
      if (self.watching) self.send(Object.assign({ action: "watch" }, self.watching));
      clearInterval(self.pinger);
      self.pinger = setInterval(function () { self.send({ action: "ping" }); }, PING_MS);
      if (self.options.onResume) self.options.onResume(resumed);
    };
    socket.onmessage = function (event) {
      var frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      if (!frame || !frame.type) return;
      if (frame.id) {
        if (self.seen[frame.id]) return;
        self.seen[frame.id] = true;
        self.seenOrder.push(frame.id);
        if (self.seenOrder.length > SEEN_LIMIT) delete self.seen[self.seenOrder.shift()];
      }
      self.options.onFrame(frame);
    };
    socket.onclose = function () {
      clearInterval(self.pinger);
      if (self.socket === socket) self.socket = null;
      self.setState("down");
      if (!self.stopped) self.retry();
    };
    socket.onerror = function () { /* onclose follows */ };
  };

  LiveSocket.prototype.retry = function () {
    var self = this;
    var base = BACKOFF_MS[Math.min(self.attempt, BACKOFF_MS.length - 1)];
    self.attempt += 1;
    clearTimeout(self.timer);
    self.timer = setTimeout(function () { self.connect(); }, base / 2 + Math.random() * base);
  };

  LiveSocket.prototype.setState = function (state) {
    if (this.state === state) return;
    this.state = state;
    if (this.options.onState) this.options.onState(state);
  };

  LiveSocket.prototype.isLive = function () {
    return this.state === "live";
  };

  LiveSocket.prototype.send = function (message) {
    if (!this.socket || this.socket.readyState !== WebSocket.OPEN) return false;
    this.socket.send(JSON.stringify(message));
    return true;
  };

  /** Listen to what is on screen: {conversation_id} or {ticket_id}; null stops. Survives reconnects. */
  LiveSocket.prototype.watch = function (target) {
    var previous = this.watching;
    var previousTopic = previous ? (previous.conversation_id ? "conversation#" + previous.conversation_id : "ticket#" + previous.ticket_id) : null;
    if (!target) {
      this.watching = null;
      if (previousTopic) this.send({ action: "unwatch", topic: previousTopic });
      return;
    }
    if (previous && previous.conversation_id === target.conversation_id && previous.ticket_id === target.ticket_id) return;
    this.watching = target;
    this.send(Object.assign({ action: "watch", previous: previousTopic || undefined }, target));
  };

  /** Someone is typing in a conversation: at most one message every few seconds. */
  LiveSocket.prototype.typing = function (conversationId, internal) {
    var now = Date.now();
    var key = conversationId + (internal ? "#note" : "");
    if (this.typedAt[key] && now - this.typedAt[key] < TYPING_MS) return;
    if (this.send({ action: "typing", conversation_id: conversationId, internal: !!internal })) this.typedAt[key] = now;
  };

  LiveSocket.prototype.stop = function () {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.pinger);
    if (this.socket) this.socket.close(1000);
    this.socket = null;
    this.setState("down");
  };

  /** Pages poll only while the socket is down, unless the diagnostic switch says never. */
  LiveSocket.pollingAllowed = function () {
    try { return localStorage.getItem("helpdesk.liveOnly") !== "1"; } catch (e) { return true; }
  };

  window.HelpdeskLiveSocket = LiveSocket;
})();
