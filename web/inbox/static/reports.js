/* The Reports page: a range of days and filters, headline figures, a chart and a table per section,
 * each chart's bars clickable to the conversations or tickets behind them, and CSV of every table.
 *
 * Figures come from GET /inbox/reports/<section> (202 while Athena computes: asked again after
 * Retry-After); items from GET /inbox/reports/<section>/items. The agent's token is the one the inbox
 * page keeps for this tab. Charts are Chart.js (vendored, no build step); each has its table beside it.
 */
(function () {
  "use strict";

  var TOKEN_KEY = "helpdesk.agentToken";
  var COLORS = { a: "#1d4fc4", b: "#c2410c", c: "#047857", d: "#6d28d9" };
  var state = { config: {}, token: sessionStorage.getItem(TOKEN_KEY), charts: {}, drill: null, loadId: 0 };

  function $(id) { return document.getElementById(id); }
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function status(text) { $("status").textContent = text || ""; }
  function isoDay(date) { return date.toISOString().slice(0, 10); }
  function minutes(seconds) {
    if (seconds === null || seconds === undefined) return "–";
    var m = seconds / 60;
    return m < 120 ? m.toFixed(1) + " min" : (m / 60).toFixed(1) + " h";
  }
  function pct(value) { return value === null || value === undefined ? "–" : value.toFixed(1) + "%"; }
  function num(value) { return value === null || value === undefined ? "–" : String(Math.round(value * 100) / 100); }

  function filters() {
    var form = new FormData($("filters"));
    var params = new URLSearchParams();
    form.forEach(function (value, key) { if (value) params.set(key, value); });
    return params;
  }

  function request(path, params, accept) {
    var url = (state.config.api_base || "") + path + "?" + params.toString();
    return fetch(url, { headers: { "Accept": accept || "application/json", "Authorization": "Bearer " + state.token } });
  }

  // Asks until the answer is ready: Athena may take a few seconds (202 + Retry-After).
  function section(path, params, tries) {
    return request(path, params).then(function (response) {
      if (response.status === 202 && (tries || 0) < 60) {
        var wait = Number(response.headers.get("Retry-After") || "2") * 1000;
        return new Promise(function (resolve) { setTimeout(resolve, wait); })
          .then(function () { return section(path, params, (tries || 0) + 1); });
      }
      return response.json().then(function (body) {
        if (!response.ok) {
          var error = new Error(body.message || ("HTTP " + response.status));
          error.status = response.status;
          throw error;
        }
        if (body.status === "failed") throw new Error("This section couldn't be computed: " + (body.reason || "unknown"));
        return body;
      });
    });
  }

  function records(answer) {
    return answer.rows.map(function (row) {
      var record = {};
      answer.columns.forEach(function (column, index) { record[column] = row[index]; });
      return record;
    });
  }

  function download(path, params, name) {
    params.set("format", "csv");
    return request(path, params, "text/csv").then(function (response) {
      if (!response.ok) throw new Error("The CSV couldn't be made (HTTP " + response.status + ")");
      return response.blob();
    }).then(function (blob) {
      var link = document.createElement("a");
      link.href = URL.createObjectURL(blob);
      link.download = name + ".csv";
      document.body.appendChild(link);
      link.click();
      link.remove();
    }).catch(function (error) { status(error.message); });
  }

  // --- tables ----------------------------------------------------------------------------------------

  function fillTable(table, answer, caption) {
    table.textContent = "";
    if (caption) table.appendChild(el("caption", null, caption));
    var head = el("thead");
    var headRow = el("tr");
    answer.columns.forEach(function (column) {
      var th = el("th", null, column.replace(/_/g, " "));
      th.scope = "col";
      headRow.appendChild(th);
    });
    head.appendChild(headRow);
    table.appendChild(head);
    var body = el("tbody");
    answer.rows.forEach(function (row) {
      var tr = el("tr");
      row.forEach(function (value, index) {
        var column = answer.columns[index];
        var td = el("td", typeof value === "number" ? "number" : null);
        if (column === "ticket_number" && value !== null) {
          var ticketId = row[answer.columns.indexOf("ticket_id")] || row[answer.columns.indexOf("item_id")];
          var link = el("a", null, "#" + value);
          link.href = "index.html#ticket=" + encodeURIComponent(ticketId);
          td.appendChild(link);
        } else if (column === "conversation_id" || (column === "item_id" && row[answer.columns.indexOf("kind")] === "conversation")) {
          var conversation = el("a", null, value);
          conversation.href = "index.html#conversation=" + encodeURIComponent(value);
          td.appendChild(conversation);
        } else {
          td.textContent = value === null ? "" : typeof value === "number" ? num(value) : String(value);
        }
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
    if (!answer.rows.length) {
      var empty = el("tr");
      var cell = el("td", "empty", "Nothing in this range.");
      cell.colSpan = answer.columns.length || 1;
      empty.appendChild(cell);
      body.appendChild(empty);
    }
    table.appendChild(body);
  }

  // --- sections ----------------------------------------------------------------------------------------

  // Each: which section, its title, how to chart it, and what a click on a bar asks for.
  var SECTIONS = [
    { id: "volumes_by_day", title: "Volume by day", hint: "Conversations started and tickets opened (UTC days). Click a day for its items.",
      chart: function (rows) {
        var days = unique(rows.map(function (r) { return r.day; }));
        return { labels: days, datasets: [
          dataset("Conversations", days.map(function (d) { return sum(rows, "day", d, "conversations"); }), COLORS.a),
          dataset("Tickets", days.map(function (d) { return sum(rows, "day", d, "tickets"); }), COLORS.b)] };
      },
      drill: function (label) { return { section: "volumes", segment: label, title: "Conversations and tickets on " + label }; } },
    { id: "response_times", title: "Response and resolution times by team", hint: "Medians in business minutes, from the SLA clocks. Click a team for its tickets.",
      chart: function (rows) {
        return { labels: rows.map(function (r) { return r.team_id; }), datasets: [
          dataset("Median first response (min)", rows.map(function (r) { return r.median_first_response_seconds === null ? null : r.median_first_response_seconds / 60; }), COLORS.a),
          dataset("Median resolution (min)", rows.map(function (r) { return r.median_resolution_seconds === null ? null : r.median_resolution_seconds / 60; }), COLORS.c)] };
      },
      drill: function (label) { return { section: "response_times", segment: label, title: "Tickets of " + label + ": response and resolution times" }; } },
    { id: "sla", title: "SLA met and breached by team", hint: "Each SLA clock's outcome. Click a bar for its tickets; the table has policies and agents too.",
      chart: function (rows) {
        var teams = rows.filter(function (r) { return r.breakdown === "team"; });
        return { labels: teams.map(function (r) { return r.segment; }), datasets: [
          dataset("Met", teams.map(function (r) { return r.met; }), COLORS.c),
          dataset("Breached", teams.map(function (r) { return r.breached; }), COLORS.b)] };
      },
      drill: function (label, datasetIndex) {
        var outcome = datasetIndex === 1 ? "breached" : "met";
        return { section: "sla", segment: label, breakdown: "team", outcome: outcome, title: "SLA " + outcome + ": tickets of " + label };
      } },
    { id: "csat", title: "CSAT by team", hint: "Average rating (1-5). Click a team for its ratings; the table has agents, types and bot paths.",
      chart: function (rows) {
        var teams = rows.filter(function (r) { return r.breakdown === "team"; });
        return { labels: teams.map(function (r) { return r.segment; }), datasets: [dataset("Average rating", teams.map(function (r) { return r.average_score; }), COLORS.d)] };
      },
      drill: function (label) { return { section: "csat", segment: label, breakdown: "team", title: "Ratings of " + label }; } },
    { id: "bot_paths", title: "Bot resolution by path", hint: "Share of conversations the bot resolved, by the path it ended on. Click a path for its conversations.",
      chart: function (rows) {
        var paths = unique(rows.map(function (r) { return r.path_id; }));
        return { labels: paths, datasets: [dataset("Resolved %", paths.map(function (p) {
          var total = sum(rows, "path_id", p, "conversations");
          return total ? 100 * sum(rows, "path_id", p, "resolved") / total : 0;
        }), COLORS.c)] };
      },
      drill: function (label) { return { section: "bot_paths", segment: label, title: "Bot conversations on path " + label }; } },
    { id: "handoff_reasons", title: "Why the bot handed over", hint: "Click a reason for its conversations.",
      chart: function (rows) {
        return { labels: rows.map(function (r) { return r.handoff_reason; }), datasets: [dataset("Conversations", rows.map(function (r) { return r.conversations; }), COLORS.b)] };
      },
      drill: function (label) { return { section: "handoff_reasons", segment: label, title: "Handed over: " + label }; } },
    { id: "knowledge", title: "Knowledge-base articles: shown and didn't help", hint: "Click an article for the conversations it was shown in.",
      chart: function (rows) {
        return { labels: rows.map(function (r) { return r.article_id; }), datasets: [
          dataset("Shown", rows.map(function (r) { return r.shown; }), COLORS.a),
          dataset("Didn't help", rows.map(function (r) { return r.did_not_help; }), COLORS.b)] };
      },
      drill: function (label) { return { section: "knowledge", segment: label, title: "Conversations shown " + label }; } },
    { id: "backlog", title: "Backlog age", hint: "Tickets still open at the end of the range, by age. Click a bar for the tickets.",
      chart: function (rows) {
        return { labels: rows.map(function (r) { return r.age_bucket; }), datasets: [dataset("Open tickets", rows.map(function (r) { return r.open_tickets; }), COLORS.d)] };
      },
      drill: function (label) { return { section: "backlog", segment: label, title: "Open tickets, " + label }; } },
    { id: "volumes", title: "Volume by channel, team and type", hint: "Every conversation and ticket of the range.", chart: null }
  ];

  function unique(values) { return values.filter(function (v, i) { return values.indexOf(v) === i; }); }
  function sum(rows, key, value, field) { return rows.reduce(function (t, r) { return t + (r[key] === value ? (r[field] || 0) : 0); }, 0); }
  function dataset(label, data, color) { return { label: label, data: data, backgroundColor: color, borderColor: color }; }

  function buildSections() {
    var container = $("sections");
    SECTIONS.forEach(function (spec) {
      var box = el("section", "report-section");
      box.id = "section-" + spec.id;
      box.setAttribute("aria-labelledby", "title-" + spec.id);
      var head = el("div", "section-head");
      var title = el("h2", null, spec.title);
      title.id = "title-" + spec.id;
      head.appendChild(title);
      var csv = el("button", "secondary", "Download CSV");
      csv.type = "button";
      csv.setAttribute("aria-label", "Download CSV: " + spec.title);
      csv.addEventListener("click", function () { download("/inbox/reports/" + spec.id, filters(), spec.id); });
      head.appendChild(csv);
      box.appendChild(head);
      box.appendChild(el("p", "hint", spec.hint));
      if (spec.chart) {
        var wrap = el("div", "chart");
        var canvas = el("canvas");
        canvas.id = "chart-" + spec.id;
        canvas.setAttribute("role", "img");
        canvas.setAttribute("aria-label", spec.title + " (chart; the table below has the same figures)");
        wrap.appendChild(canvas);
        box.appendChild(wrap);
      }
      var tableWrap = el("div", "table-wrap");
      tableWrap.tabIndex = 0;  // scrollable: reachable by keyboard
      tableWrap.setAttribute("role", "region");
      tableWrap.setAttribute("aria-label", spec.title + " table");
      var table = el("table");
      table.id = "table-" + spec.id;
      tableWrap.appendChild(table);
      box.appendChild(tableWrap);
      container.appendChild(box);
    });
  }

  function drawChart(spec, rows) {
    if (!spec.chart || typeof Chart === "undefined") return;
    if (state.charts[spec.id]) state.charts[spec.id].destroy();
    var data = spec.chart(rows);
    state.charts[spec.id] = new Chart($("chart-" + spec.id), {
      type: "bar",
      data: data,
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        plugins: { legend: { position: "bottom" } },
        scales: { y: { beginAtZero: true } },
        onHover: function (event, elements) { event.native.target.style.cursor = elements.length ? "pointer" : "default"; },
        onClick: function (event, elements) {
          if (!elements.length) return;
          var element = elements[0];
          openDrill(spec.drill(data.labels[element.index], element.datasetIndex));
        }
      }
    });
    $("chart-" + spec.id).dataset.labels = JSON.stringify(data.labels);
  }

  // --- headline figures --------------------------------------------------------------------------------

  function figure(id, label, value, detail) {
    var item = el("li");
    item.dataset.figure = id;
    item.appendChild(el("span", "label", label));
    item.appendChild(el("span", "value", value));
    if (detail) item.appendChild(el("span", "detail", detail));
    return item;
  }

  function showFigures(summary) {
    var list = $("figures");
    list.textContent = "";
    list.appendChild(figure("conversations", "Conversations", summary.conversations));
    list.appendChild(figure("tickets", "Tickets opened", summary.tickets));
    list.appendChild(figure("median_first_response", "Median first response", minutes(summary.median_first_response_seconds), summary.first_responses + " responses, business time"));
    list.appendChild(figure("median_resolution", "Median resolution", minutes(summary.median_resolution_seconds), summary.resolutions + " resolutions, business time"));
    list.appendChild(figure("sla_met", "SLA met", pct(summary.sla_met_pct), summary.sla_met + " met, " + summary.sla_breached + " breached"));
    list.appendChild(figure("csat", "CSAT", summary.csat_average === null ? "–" : summary.csat_average.toFixed(2), summary.csat_ratings + " ratings"));
    list.appendChild(figure("bot_resolution", "Bot resolution", pct(summary.bot_resolution_pct), summary.bot_resolved + " of " + summary.bot_conversations + " conversations"));
  }

  // --- loading -----------------------------------------------------------------------------------------

  function load() {
    var params = filters();
    var loadId = ++state.loadId;
    status("Loading…");
    history.replaceState(null, "", "?" + params.toString());
    var summary = section("/inbox/reports/summary", params).then(function (answer) {
      if (loadId === state.loadId) showFigures(records(answer)[0] || {});
    });
    var parts = SECTIONS.map(function (spec) {
      return section("/inbox/reports/" + spec.id, params).then(function (answer) {
        if (loadId !== state.loadId) return;
        fillTable($("table-" + spec.id), answer);
        drawChart(spec, records(answer));
      });
    });
    return Promise.all([summary].concat(parts)).then(function () {
      if (loadId !== state.loadId) return;
      $("report").hidden = false;
      status("");
      document.body.dataset.loaded = params.toString();
    }).catch(function (error) {
      if (error.status === 401 || error.status === 403) {
        status(error.status === 403 ? "Reports are for leads and admins." : "Your sign-in has expired: sign in again on the inbox page.");
        $("report").hidden = true;
      } else {
        status(error.message);
      }
      document.body.dataset.loaded = "error";
    });
  }

  function openDrill(drill) {
    state.drill = drill;
    var params = filters();
    ["segment", "breakdown", "outcome"].forEach(function (key) { if (drill[key]) params.set(key, drill[key]); });
    $("drill-title").textContent = drill.title;
    $("drill-note").textContent = "Loading…";
    $("drill").hidden = false;
    return section("/inbox/reports/" + drill.section + "/items", params).then(function (answer) {
      fillTable($("drill-table"), answer, drill.title);
      $("drill-note").textContent = answer.rows.length + " item" + (answer.rows.length === 1 ? "" : "s") + (answer.truncated ? " (the first 1,000)" : "") + ". Numbers and ids open the ticket or conversation in the inbox.";
      $("drill").focus();
      document.body.dataset.drilled = drill.section + ":" + (drill.segment || "");
    }).catch(function (error) { $("drill-note").textContent = error.message; });
  }

  $("drill-close").addEventListener("click", function () { $("drill").hidden = true; state.drill = null; });
  $("drill-csv").addEventListener("click", function () {
    var drill = state.drill;
    if (!drill) return;
    var params = filters();
    ["segment", "breakdown", "outcome"].forEach(function (key) { if (drill[key]) params.set(key, drill[key]); });
    download("/inbox/reports/" + drill.section + "/items", params, drill.section + "-items");
  });

  function setRange(days, offset) {
    var end = new Date();
    end.setUTCDate(end.getUTCDate() - offset);
    var start = new Date(end.getTime());
    start.setUTCDate(start.getUTCDate() - (days - 1));
    $("from").value = isoDay(start);
    $("to").value = isoDay(end);
  }

  $("filters").addEventListener("submit", function (event) { event.preventDefault(); load(); });
  document.querySelectorAll(".quick button").forEach(function (button) {
    button.addEventListener("click", function () { setRange(Number(button.dataset.days), Number(button.dataset.offset)); load(); });
  });

  // --- start ---------------------------------------------------------------------------------------------

  fetch("config.json").then(function (r) { return r.ok ? r.json() : {}; }, function () { return {}; }).then(function (config) {
    state.config = config;
    if (config.title) { $("title").textContent = config.title + " reports"; document.title = config.title + " reports"; }
    if (!state.token) { $("signed-out").hidden = false; document.body.dataset.ready = "true"; return; }
    buildSections();
    $("filters").hidden = false;
    var query = new URLSearchParams(location.search);
    setRange(7, 0);
    ["from", "to", "team", "channel"].forEach(function (id) {
      var key = id === "team" ? "team_id" : id;
      if (query.get(key)) $(id).value = query.get(key);
    });
    return fetch((config.api_base || "") + "/inbox/teams", { headers: { "Authorization": "Bearer " + state.token } })
      .then(function (r) { return r.ok ? r.json() : { items: [] }; })
      .then(function (teams) {
        teams.items.forEach(function (team) { $("team").appendChild(new Option(team.name || team.id, team.id)); });
        if (query.get("team_id")) $("team").value = query.get("team_id");
        document.body.dataset.ready = "true";
        return load();
      });
  });
})();
