/* "Attach file" in the inbox composer: files for a reply (shared with the customer) or an internal
 * note, on a ticket or a conversation, uploaded through POST /inbox/attachments before it is sent.
 *
 * Whether a file is shared or internal is decided when its upload starts (the API keeps internal
 * files where the customer can't reach them), so the "Internal note" switch is locked while files
 * wait and a line says which way they go. Switching to another ticket or conversation drops the
 * waiting files. The widget itself is ../messenger/static/pending-files.js.
 */
(function () {
  "use strict";

  function $(id) { return document.getElementById(id); }
  var page = window.HelpdeskInbox;
  var shown = { kind: null, id: null };

  var pending = window.PendingFiles.create({
    input: $("composer-attach"),
    list: $("composer-files"),
    error: $("composer-files-error"),
    start: function (file) {
      var body = { filename: file.filename, content_type: file.content_type, size: file.size, internal: $("internal").checked };
      body[shown.kind === "tickets" ? "ticket_id" : "conversation_id"] = shown.id;
      return page.api("POST", "/inbox/attachments", body);
    },
    onChange: function () {
      var waiting = pending && pending.count() > 0;
      $("internal").disabled = waiting;
      $("composer-files-audience").hidden = !waiting;
      $("composer-files-audience").textContent = $("internal").checked
        ? "Internal: only agents will see these files."
        : "Shared: the customer will be able to download these files.";
    },
  });

  /* The detail now shows this ticket or conversation (called on every refresh). */
  function show(kind, id) {
    if (shown.kind === kind && shown.id === id) return;
    pending.clear();
    shown = { kind: kind, id: id };
    $("composer-attach-control").hidden = !id;
  }

  window.InboxComposerFiles = {
    show: show,
    ids: function () { return pending.ids(); },
    busy: function () { return pending.busy(); },
    clear: function () { pending.clear(); },
  };
})();
