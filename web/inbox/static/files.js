/* Files on a conversation or ticket, as the inbox shows them: image thumbnails that open a full-size
 * viewer (a modal dialog), a video player, and a download link with each file's name, type and size.
 *
 * The links come with the page and live 5 minutes; each is kept (by attachment id) until it is
 * 4 minutes old so that polling doesn't reload every picture, and a file listed without links (an
 * older page) asks GET /inbox/attachments/{id}. Thumbnails are the small JPEG the thumbnailer made
 * (thumbnail_url), or the original scaled by CSS until it exists or if it fails to load. Names
 * are rendered with textContent; the links answer with the declared type, inline only for checked
 * images, videos and PDFs.
 */
(function () {
  "use strict";

  var KEEP_MS = 4 * 60 * 1000;
  var links = {};
  var opener = null;

  function $(id) { return document.getElementById(id); }
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

  function kind(file) {
    if (/^image\/(jpeg|png|gif|webp)$/.test(file.content_type)) return "image";
    if (/^video\/(mp4|quicktime)$/.test(file.content_type)) return "video";
    return "file";
  }

  /* The file's links: fresh ones from the page, else kept ones, else asked for (a promise). */
  function linksFor(file, fetchLinks) {
    var now = Date.now();
    var kept = links[file.id];
    if (kept && now - kept.at < KEEP_MS) return Promise.resolve(kept);
    if (file.url) {
      links[file.id] = {
        url: file.url, download_url: file.download_url || file.url, thumbnail_url: file.thumbnail_url || null, at: now
      };
      return Promise.resolve(links[file.id]);
    }
    return fetchLinks(file.id).then(function (answer) {
      links[file.id] = {
        url: answer.url, download_url: answer.download_url, thumbnail_url: answer.thumbnail_url || null, at: Date.now()
      };
      return links[file.id];
    });
  }

  function openViewer(file, link, from) {
    var viewer = $("viewer");
    opener = from;
    $("viewer-title").textContent = file.filename + " (" + file.content_type + ", " + size(file.size) + ")";
    $("viewer-image").src = link.url;
    $("viewer-image").alt = "Full-size view of " + file.filename;
    $("viewer-download").href = link.download_url;
    $("viewer-download").setAttribute("aria-label", "Download " + file.filename);
    viewer.showModal();
    $("viewer-close").focus();
  }

  function closeViewer() { $("viewer").close(); }
  $("viewer-close").addEventListener("click", closeViewer);
  $("viewer").addEventListener("close", function () {
    $("viewer-image").removeAttribute("src");
    if (opener && document.contains(opener)) opener.focus();
    opener = null;
  });
  // A click on the backdrop (outside the picture and its bar) closes the viewer too.
  $("viewer").addEventListener("click", function (event) { if (event.target === $("viewer")) closeViewer(); });

  function fileEntry(file, fetchLinks) {
    var item = el("li", "file file-" + kind(file));
    var label = file.filename + " · " + file.content_type + " · " + size(file.size);
    var download = el("a", "file-download", label);
    download.setAttribute("aria-label", "Download " + file.filename + ", " + file.content_type + ", " + size(file.size));
    download.rel = "noopener";
    linksFor(file, fetchLinks).then(function (link) {
      download.href = link.download_url;
      if (kind(file) === "image") {
        var thumb = el("button", "thumbnail");
        thumb.type = "button";
        thumb.setAttribute("aria-label", "View " + file.filename + " full size");
        var img = el("img");
        // The small JPEG the thumbnailer made; until it exists (or if it fails to load) the original.
        if (link.thumbnail_url) {
          img.addEventListener("error", function () {
            if (img.src !== link.url) img.src = link.url;
          }, { once: true });
          img.src = link.thumbnail_url;
        } else {
          img.src = link.url;
        }
        img.alt = "";
        img.loading = "lazy";
        img.decoding = "async";
        thumb.appendChild(img);
        thumb.addEventListener("click", function () { openViewer(file, links[file.id] || link, thumb); });
        item.insertBefore(thumb, download);
      } else if (kind(file) === "video") {
        var video = el("video");
        video.controls = true;
        video.preload = "metadata";
        video.src = link.url;
        video.setAttribute("aria-label", "Video " + file.filename);
        item.insertBefore(video, download);
      }
    }, function () { download.textContent = label + " (link unavailable)"; });
    item.appendChild(download);
    return item;
  }

  /* The list of files to put under a message or timeline entry (null when there are none). */
  function list(files, fetchLinks) {
    if (!files || !files.length) return null;
    var ul = el("ul", "files");
    ul.setAttribute("aria-label", "Files");
    files.forEach(function (file) { ul.appendChild(fileEntry(file, fetchLinks)); });
    return ul;
  }

  window.InboxFiles = { list: list, size: size };
})();
