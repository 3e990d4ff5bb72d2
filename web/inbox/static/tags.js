/* Tags in the inbox: the tags of the open conversation or ticket (remove one, add one from the
 * workspace's list) and the "Tagged" view picker (what carries a tag, across the caller's teams).
 *
 * Uses what static/inbox.js exposes (window.HelpdeskInbox); inbox.js calls show() when it shows a
 * conversation or ticket. Tickets are tagged with PATCH (based on the version shown), conversations
 * with POST .../tags.
 */
(function () {
  "use strict";

  var inbox = window.HelpdeskInbox;
  if (!inbox) return;
  var editor = document.getElementById("tag-editor");
  var list = document.getElementById("tag-list");
  var adder = document.getElementById("tag-add");
  var filter = document.getElementById("tag-filter");
  var known = null; // the workspace's tags, fetched once signed in
  var shown = null; // { kind, item }

  function workspaceTags() {
    if (!known) {
      known = inbox.api("GET", "/inbox/tags").then(function (tags) { fillFilter(tags.items); return tags.items; },
        function (error) { known = null; throw error; });
    }
    return known;
  }

  function fillFilter(tags) {
    filter.textContent = "";
    filter.appendChild(new Option("Choose a tag…", ""));
    [["conversations", "Conversations"], ["tickets", "Tickets"]].forEach(function (pair) {
      var group = document.createElement("optgroup");
      group.label = pair[1];
      tags.forEach(function (tag) { group.appendChild(new Option("#" + tag, pair[0] + ":" + tag)); });
      filter.appendChild(group);
    });
  }

  function change(add, remove) {
    var kind = shown.kind, item = shown.item;
    var path = "/inbox/" + kind + "/" + encodeURIComponent(item.id);
    var request = kind === "tickets"
      ? inbox.api("PATCH", path, { version: item.version, add_tags: add, remove_tags: remove })
      : inbox.api("POST", path + "/tags", { add_tags: add, remove_tags: remove });
    request.then(function () { inbox.showStatus(""); inbox.loadDetail(); inbox.loadList(); }).catch(inbox.fail);
  }

  function show(kind, item) {
    shown = { kind: kind, item: item };
    editor.hidden = false;
    list.textContent = "";
    (item.tags || []).forEach(function (tag) {
      var li = inbox.el("li", "tag");
      li.appendChild(inbox.el("span", null, "#" + tag));
      var remove = inbox.el("button", "tag-remove", "×");
      remove.type = "button";
      remove.setAttribute("aria-label", "Remove tag " + tag);
      remove.addEventListener("click", function () { change([], [tag]); });
      li.appendChild(remove);
      list.appendChild(li);
    });
    workspaceTags().then(function (tags) {
      adder.textContent = "";
      adder.appendChild(new Option("Add a tag…", ""));
      tags.filter(function (t) { return (item.tags || []).indexOf(t) === -1; })
        .forEach(function (t) { adder.appendChild(new Option("#" + t, t)); });
    }).catch(inbox.fail);
  }

  adder.addEventListener("change", function () {
    var tag = adder.value;
    if (tag && shown) change([tag], []);
  });
  filter.addEventListener("focus", function () { workspaceTags().catch(inbox.fail); });
  // The chosen tag's view is a view button like the others (live updates keep its list current).
  filter.addEventListener("change", function () {
    if (!filter.value) return;
    var parts = filter.value.split(":");
    var views = document.getElementById("tagged-views");
    var button = views.querySelector("button");
    if (!button) {
      var li = inbox.el("li");
      button = inbox.el("button");
      button.type = "button";
      button.addEventListener("click", function () { inbox.selectView(button); });
      li.appendChild(button);
      views.appendChild(li);
    }
    var name = (parts[0] === "tickets" ? "Tickets" : "Conversations") + " #" + parts[1];
    button.dataset.view = parts[0];
    button.dataset.query = "tag=" + encodeURIComponent(parts[1]);
    button.dataset.name = "#" + parts[1];
    button.textContent = name;
    inbox.selectView(button);
  });

  window.HelpdeskInboxTags = { show: show };
})();
