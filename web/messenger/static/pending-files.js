/* Files waiting to go out with a reply: the "Attach file" control both the inbox composer and the
 * messenger's ticket reply use.
 *
 * Picking a file asks the API to start an upload (`start(file)` answers the presigned S3 form and the
 * attachment id; a refused type or size is a 400 whose message says why), then posts the file straight
 * to S3 with a progress bar. Each file is listed with its name, type and size and a Remove button until
 * the reply is sent; `ids()` are the uploaded ones to send as `attachment_ids`, `busy()` says an upload
 * is still running. Errors are announced in the widget's alert line, never as a page reload.
 */
(function () {
  "use strict";

  var TYPES = ["image/jpeg", "image/png", "image/gif", "image/webp", "video/mp4", "video/quicktime", "application/pdf"];
  var MAX_PER_REPLY = 10;

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function size(bytes) {
    if (bytes < 1024) return bytes + " B";
    if (bytes < 1024 * 1024) return (bytes / 1024).toFixed(bytes < 10240 ? 1 : 0) + " KB";
    return (bytes / (1024 * 1024)).toFixed(1) + " MB";
  }

  function describe(error) {
    if (error && error.details && error.details.length) {
      return error.message + ": " + error.details.map(function (d) { return d.field + " " + d.message; }).join("; ");
    }
    return (error && error.message) || "The upload failed";
  }

  /* Post the file to the presigned S3 form, reporting progress (0-100). */
  function send(upload, file, progress) {
    return new Promise(function (resolve, reject) {
      var form = new FormData();
      Object.keys(upload.fields).forEach(function (name) { form.append(name, upload.fields[name]); });
      form.append("file", file);
      var request = new XMLHttpRequest();
      request.open("POST", upload.url);
      request.upload.addEventListener("progress", function (event) {
        if (event.lengthComputable) progress(Math.round((event.loaded / event.total) * 100));
      });
      request.onload = function () {
        if (request.status >= 200 && request.status < 300) { progress(100); resolve(); }
        else reject(new Error("The storage refused the file (" + request.status + ")"));
      };
      request.onerror = function () { reject(new Error("The upload failed: check the connection")); };
      request.send(form);
    });
  }

  /* options: input (file input), list (ul), error (alert paragraph), start(file) -> Promise of
   * {attachment_id, upload}, onChange() when files are added, finished or removed. */
  function create(options) {
    var files = [];
    var changed = options.onChange || function () {};

    function showError(text) { options.error.textContent = text || ""; }

    function remove(entry) {
      entry.removed = true;
      files = files.filter(function (f) { return f !== entry; });
      entry.item.remove();
      changed();
    }

    function add(file) {
      var type = (file.type || "application/octet-stream").toLowerCase();
      var label = file.name + " · " + type + " · " + size(file.size);
      var entry = { id: null, done: false, removed: false, item: el("li", "pending-file") };
      entry.item.appendChild(el("span", "pending-file-name", label));
      var bar = el("progress");
      bar.max = 100;
      bar.value = 0;
      bar.setAttribute("aria-label", "Uploading " + file.name);
      entry.item.appendChild(bar);
      var drop = el("button", "link pending-file-remove", "Remove");
      drop.type = "button";
      drop.setAttribute("aria-label", "Remove " + file.name);
      drop.addEventListener("click", function () { remove(entry); options.input.focus(); });
      entry.item.appendChild(drop);
      files.push(entry);
      options.list.appendChild(entry.item);
      changed();
      options.start({ filename: file.name, content_type: type, size: file.size })
        .then(function (started) {
          if (entry.removed) return;
          entry.id = started.attachment_id;
          return send(started.upload, file, function (percent) { bar.value = percent; });
        })
        .then(function () {
          if (entry.removed) return;
          entry.done = true;
          bar.remove();
          entry.item.classList.add("uploaded");
          changed();
        })
        .catch(function (error) {
          if (entry.removed) return;
          remove(entry);
          showError("Couldn't attach " + file.name + ". " + describe(error));
        });
    }

    options.input.setAttribute("accept", TYPES.join(","));
    options.input.addEventListener("change", function () {
      var picked = Array.prototype.slice.call(options.input.files || []);
      options.input.value = "";
      showError("");
      if (files.length + picked.length > MAX_PER_REPLY) {
        showError("A reply can carry at most " + MAX_PER_REPLY + " files.");
        return;
      }
      picked.forEach(add);
    });

    return {
      ids: function () { return files.filter(function (f) { return f.done; }).map(function (f) { return f.id; }); },
      busy: function () { return files.some(function (f) { return !f.done; }); },
      count: function () { return files.length; },
      clear: function () { files.slice().forEach(remove); showError(""); },
      showError: showError,
    };
  }

  window.PendingFiles = { create: create, size: size };
})();
