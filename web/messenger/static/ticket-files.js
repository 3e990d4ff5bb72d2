/* "Attach a photo, video or PDF" on a reply in the tickets space: the customer's files are uploaded
 * through POST /messenger/attachments (checked for type and size there) and sent with the reply as
 * `attachment_ids`. The widget is static/pending-files.js; messenger.js asks `busy()`/`ids()` when the
 * reply is sent and `clear()` when another ticket opens.
 */
(function () {
  "use strict";

  function $(id) { return document.getElementById(id); }
  var page = window.HelpdeskMessengerPage;

  var pending = window.PendingFiles.create({
    input: $("ticket-attach"),
    list: $("ticket-files"),
    error: $("ticket-files-error"),
    start: function (file) { return page.api("POST", "/messenger/attachments", file); },
  });

  window.HelpdeskTicketFiles = {
    ids: function () { return pending.ids(); },
    busy: function () { return pending.busy(); },
    clear: function () { pending.clear(); },
  };
})();
