/* What a business's page does before loading embed.js: hand the messenger its signed-in customer.
 *
 * A real shop's backend signs a token for the customer signed in to the shop and puts it in
 * window.helpdeskSettings (and getToken fetches a fresh one). This demo shop has no backend of its
 * own: on the local runtime, config.json lists demo customers with freshly signed tokens, and the
 * picker says which one is "signed in to the shop" (remembered for this tab only). Deployed, there
 * are none, and the demo shop's visitors chat anonymously. The messenger trusts this page because
 * it is on the workspace's allow-list (`messenger_origins: [self]` in the demo workspace).
 */
(function () {
  "use strict";
  var CHOICE_KEY = "demoShop.customer";
  var settings = {
    token: null,
    context: { object: { type: "order", id: "ORD-1001" } },
    getToken: function () { return demoCustomers().then(tokenOfChosen); },
  };
  window.helpdeskSettings = settings;

  function demoCustomers() {
    return fetch("config.json", { cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : {}; })
      .then(function (config) { return config.dev_customers || []; }, function () { return []; });
  }

  function tokenOfChosen(customers) {
    var chosen = sessionStorage.getItem(CHOICE_KEY);
    var match = customers.filter(function (c) { return c.id === chosen; })[0];
    return match ? match.token : null;
  }

  demoCustomers().then(function (customers) {
    settings.token = tokenOfChosen(customers);
    if (!customers.length) return;
    var picker = document.getElementById("shop-customer");
    customers.forEach(function (customer) {
      var option = document.createElement("option");
      option.value = customer.id;
      option.textContent = customer.name;
      picker.appendChild(option);
    });
    picker.value = sessionStorage.getItem(CHOICE_KEY) || "";
    picker.addEventListener("change", function () {
      sessionStorage.setItem(CHOICE_KEY, picker.value);
      location.reload();
    });
    document.getElementById("shop-sign-in").hidden = false;
  });
})();
