/* A small, safe Markdown renderer for knowledge-base answers: it builds DOM nodes, never HTML text.
 *
 * Supported: paragraphs, line breaks, "#" headings, "-"/"*" and "1." lists, **bold**, *italic* /
 * _italic_, `code` and [links](https://...). Everything else is shown as the text it is. Links open
 * in a new tab with rel="noopener noreferrer" and only for http(s), mailto and "article:<id>" (a
 * knowledge-base article, opened in the messenger); any other scheme (javascript:, data:...) is text.
 */
(function () {
  "use strict";

  var SAFE_LINK = /^(https?:\/\/|mailto:)[^\s<>"]+$/i;
  var ARTICLE_LINK = /^article:([a-z0-9][a-z0-9_-]{0,62})$/;
  var INLINE = /(\*\*([^*]+)\*\*|__([^_]+)__|`([^`]+)`|\[([^\]]+)\]\(([^)\s]+)\)|\*([^*\s][^*]*)\*|(?<!\w)_([^_\s][^_]*)_(?!\w))/;

  function inline(parent, text, onArticle) {
    var rest = text;
    while (rest) {
      var match = INLINE.exec(rest);
      if (!match) { parent.appendChild(document.createTextNode(rest)); return; }
      if (match.index) parent.appendChild(document.createTextNode(rest.slice(0, match.index)));
      var node;
      if (match[2] !== undefined || match[3] !== undefined) {
        node = document.createElement("strong");
        inline(node, match[2] !== undefined ? match[2] : match[3], onArticle);
      } else if (match[4] !== undefined) {
        node = document.createElement("code");
        node.textContent = match[4];
      } else if (match[5] !== undefined) {
        node = link(match[5], match[6], onArticle);
      } else {
        node = document.createElement("em");
        inline(node, match[7] !== undefined ? match[7] : match[8], onArticle);
      }
      parent.appendChild(node);
      rest = rest.slice(match.index + match[0].length);
    }
  }

  function link(label, target, onArticle) {
    var article = ARTICLE_LINK.exec(target);
    if (article && onArticle) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "link article-link";
      button.textContent = label;
      button.addEventListener("click", function () { onArticle(article[1]); });
      return button;
    }
    if (!SAFE_LINK.test(target)) return document.createTextNode(label);
    var anchor = document.createElement("a");
    anchor.href = target;
    anchor.textContent = label;
    anchor.target = "_blank";
    anchor.rel = "noopener noreferrer";
    return anchor;
  }

  /** The Markdown as a DOM fragment; ``onArticle(id)`` opens an "article:<id>" link. */
  function render(text, onArticle) {
    var root = document.createElement("div");
    root.className = "markdown";
    var lines = String(text || "").replace(/\r\n?/g, "\n").split("\n");
    var paragraph = null;
    var list = null;
    lines.forEach(function (raw) {
      var line = raw.replace(/\s+$/, "");
      var bullet = /^\s*[-*]\s+(.*)$/.exec(line);
      var numbered = /^\s*\d{1,3}[.)]\s+(.*)$/.exec(line);
      var heading = /^(#{1,6})\s+(.*)$/.exec(line);
      if (!line.trim()) { paragraph = null; list = null; return; }
      if (bullet || numbered) {
        var kind = bullet ? "UL" : "OL";
        if (!list || list.tagName !== kind) { list = document.createElement(kind.toLowerCase()); root.appendChild(list); }
        var item = document.createElement("li");
        inline(item, (bullet || numbered)[1], onArticle);
        list.appendChild(item);
        paragraph = null;
        return;
      }
      list = null;
      if (heading) {
        var title = document.createElement("p");
        title.className = "md-heading";
        var strong = document.createElement("strong");
        inline(strong, heading[2], onArticle);
        title.appendChild(strong);
        root.appendChild(title);
        paragraph = null;
        return;
      }
      if (!paragraph) { paragraph = document.createElement("p"); root.appendChild(paragraph); }
      else paragraph.appendChild(document.createElement("br"));
      inline(paragraph, line, onArticle);
    });
    return root;
  }

  window.HelpdeskMarkdown = { render: render };
})();
