/* "Attach file" in the inbox composer: files for a ticket's reply (shared with its customer) or
 * internal note, uploaded through POST /inbox/attachments before the reply is sent.
 *
 * Whether a file is shared or internal is decided when its upload starts (the API keeps internal
 * files where the customer can't reach them), so the "Internal note" switch is locked while files
 * wait and a line says which way they go. Switching to another ticket or conversation drops the
 * waiting files. Conversations take text only: the control is hidden there. The widget itself is
 * ../messenger/static/pending-files.js.
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
      return page.api("POST", "/inbox/attachments", {
        ticket_id: shown.id, filename: file.filename, content_type: file.content_type, size: file.size,
        internal: $("internal").checked,
      });
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
    $("composer-attach-control").hidden = kind !== "tickets";
  }

  window.InboxComposerFiles = {
    show: show,
    ids: function () { return pending.ids(); },
    busy: function () { return pending.busy(); },
    clear: function () { pending.clear(); },
  };
})();
