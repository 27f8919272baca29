// The direct-sales screen (#28): every sale is kept on the phone first (IndexedDB), then sent; when the connection
// drops, sales wait on the phone and go when it is back, each exactly once (the id made here, which the server
// deduplicates). Without this script the form posts one sale the plain way.
(function () {
  "use strict";
  var form = document.getElementById("sale-form");
  var box = document.getElementById("sale-queue");
  if (!form || !box || !window.indexedDB || !window.fetch) { return; }
  var point = form.dataset.point;
  var user = form.dataset.user;  // each sale waits for the account that made it
  var message = form.querySelector(".sale-message");
  var totalOut = document.getElementById("sale-total");
  var sending = false;
  var again = false;
  var problem = "";  // why sending stopped: the log-in has ended, or the shop refused the whole batch
  var sent = [];

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register(form.dataset.worker, { scope: form.dataset.worker.replace(/sw\.js$/, "") })
      .catch(function () { /* the screen works online without it */ });
  }

  function newId() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function rupiah(n) { return "Rp" + String(n).replace(/\B(?=(\d{3})+(?!\d))/g, "."); }
  function digits(text) {
    var t = String(text || "").trim().replace(/^rp\.?\s*/i, "").replace(/,(-|00?)$/, "").replace(/[.\s]/g, "");
    return /^\d{1,12}$/.test(t) ? parseInt(t, 10) : null;
  }

  // -- the queue on the phone
  var opened = null;
  function db() {
    if (opened) { return opened; }
    opened = new Promise(function (resolve, reject) {
      var request = indexedDB.open("kb-direct-sales", 1);
      request.onupgradeneeded = function () {
        request.result.createObjectStore("queue", { keyPath: "client_id" });
      };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
    return opened;
  }
  function store(mode, work) {
    return db().then(function (conn) {
      return new Promise(function (resolve, reject) {
        var tx = conn.transaction("queue", mode);
        var result = work(tx.objectStore("queue"));
        tx.oncomplete = function () { resolve(result && result.result !== undefined ? result.result : result); };
        tx.onerror = function () { reject(tx.error); };
        tx.onabort = function () { reject(tx.error); };
      });
    });
  }
  function all() {
    return store("readonly", function (s) { return s.getAll(); }).then(function (items) {
      return (items || []).filter(function (item) { return item.point === point && item.user === user; })
        .sort(function (a, b) { return a.made < b.made ? -1 : 1; });
    });
  }
  function put(item) { return store("readwrite", function (s) { s.put(item); }); }
  function remove(id) { return store("readwrite", function (s) { s.delete(id); }); }

  // -- what the screen shows
  function render() {
    return all().then(function (items) {
      var list = box.querySelector(".queue-list");
      var state = box.querySelector(".queue-state");
      list.textContent = "";
      items.forEach(function (item) {
        var li = document.createElement("li");
        li.className = "queue-item " + item.state;
        li.dataset.clientId = item.client_id;
        var what = item.sale.lines.map(function (l) { return l.quantity + " × " + l.label; }).join(", ");
        li.textContent = (item.state === "refused" ? box.dataset.refused : box.dataset.waiting) + ": " + what +
          " · " + rupiah(item.total) + (item.message ? " · " + item.message : "");
        if (item.state === "refused") {
          var drop = document.createElement("button");
          drop.type = "button";
          drop.className = "secondary";
          drop.textContent = box.dataset.remove;
          drop.addEventListener("click", function () { remove(item.client_id).then(render); });
          li.appendChild(document.createTextNode(" "));
          li.appendChild(drop);
        }
        list.appendChild(li);
      });
      sent.forEach(function (done) {
        var li = document.createElement("li");
        li.className = "queue-item sent";
        var link = document.createElement("a");
        link.href = done.url;
        link.textContent = done.number;
        li.appendChild(document.createTextNode(box.dataset.sent + ": "));
        li.appendChild(link);
        li.appendChild(document.createTextNode(" · " + rupiah(done.total) + (done.note ? " · " + done.note : "")));
        list.appendChild(li);
      });
      var waiting = items.filter(function (i) { return i.state === "waiting"; }).length;
      box.hidden = items.length === 0 && sent.length === 0 && navigator.onLine;
      box.querySelector(".queue-send").hidden = waiting === 0;
      state.textContent = problem ? problem + (waiting ? " (" + waiting + ")" : "")
        : navigator.onLine ? (waiting ? box.dataset.waiting + ": " + waiting : box.dataset.empty)
        : box.dataset.offline + (waiting ? " (" + waiting + ")" : "");
      box.classList.toggle("queue-problem", !!problem);
      box.querySelector(".queue-login").hidden = problem !== box.dataset.login;
      box.dataset.waitingCount = String(waiting);
    });
  }

  // -- sending
  function isJson(r) {
    return !r.redirected && (r.headers.get("Content-Type") || "").indexOf("application/json") === 0;
  }
  function flush() {
    if (sending) { again = true; return render(); }
    if (!navigator.onLine) { return render(); }
    sending = true;
    return all().then(function (items) {
      var waiting = items.filter(function (i) { return i.state === "waiting"; });
      if (!waiting.length) { problem = ""; return null; }
      return fetch(form.dataset.token, { credentials: "same-origin", cache: "no-store" })
        .then(function (r) {
          // The log-in page instead of a token: the session ended. Say so; the sales stay on the phone.
          if (r.ok && !isJson(r) || r.status === 401 || r.status === 403) { problem = box.dataset.login; }
          if (!r.ok || !isJson(r)) { throw new Error("token " + r.status); }
          return r.json();
        })
        .then(function (token) {
          return fetch(form.dataset.sync, {
            method: "POST", credentials: "same-origin",
            headers: { "Content-Type": "application/json", "X-CSRFToken": token.csrf_token },
            body: JSON.stringify({ sales: waiting.map(function (i) { return i.sale; }) })
          });
        })
        .then(function (r) {
          if (!r.ok || !isJson(r)) {
            problem = r.status === 403 || !isJson(r) ? box.dataset.login : box.dataset.failed + " (" + r.status + ")";
            throw new Error("sync " + r.status);
          }
          problem = "";
          return r.json();
        })
        .then(function (answer) {
          var work = (answer.results || []).map(function (result) {
            var item = waiting.filter(function (i) { return i.client_id === result.client_id; })[0];
            if (!item) { return null; }
            if (result.status === "refused") {
              item.state = "refused";
              item.message = result.message;
              return put(item);
            }
            if (result.status !== "saved" && result.status !== "duplicate") { return null; }  // sent again later
            sent.unshift({ number: result.number, url: result.url, total: result.total,
                           note: (result.warnings || []).join(" ") });
            sent = sent.slice(0, 5);
            return remove(item.client_id);
          });
          return Promise.all(work);
        });
    }).catch(function () { /* still offline, or the server is away: kept, tried again */ })
      .then(function () {
        sending = false;
        if (again) { again = false; return flush(); }
        return render();
      });
  }

  // -- the form
  function lines() {
    var found = [], problems = [], unreadable = [];
    form.querySelectorAll(".sale-product").forEach(function (row) {
      var id = row.dataset.id;
      var qtyText = form.elements["q-" + id].value.trim();
      var qty = digits(qtyText);
      if (qtyText && qty === null) { unreadable.push(row.dataset.label); return; }
      if (!qty) { return; }
      var priceText = form.elements["p-" + id].value.trim();
      var typed = digits(priceText);
      if (priceText && typed === null) { unreadable.push(row.dataset.label); return; }
      var seen = parseInt(row.dataset.price, 10);
      var price = typed === null ? seen : typed;
      var reason = form.elements["r-" + id].value.trim();
      if (price !== seen && !reason) { problems.push(row.dataset.label); }
      // The catalogue price as this screen showed it goes along: if it changed since, the buyer still paid this.
      found.push({ product_id: parseInt(id, 10), quantity: qty, unit_price: price === seen ? null : price,
                   seen_price: seen, reason: reason, label: row.dataset.label, price: price });
    });
    return { lines: found, problems: problems, unreadable: unreadable };
  }
  function showTotal() {
    var total = lines().lines.reduce(function (sum, l) { return sum + l.quantity * l.price; }, 0);
    totalOut.textContent = rupiah(total);
    return total;
  }
  form.querySelector(".sale-total").hidden = false;
  form.addEventListener("input", showTotal);
  form.addEventListener("click", function () { window.setTimeout(showTotal, 0); });

  var search = document.getElementById("product-search");
  search.parentElement.hidden = false;
  search.addEventListener("input", function () {
    var words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
    form.querySelectorAll(".sale-product").forEach(function (row) {
      row.hidden = !words.every(function (w) { return row.dataset.name.indexOf(w) !== -1; });
    });
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var picked = lines();
    var method = form.querySelector("input[name=method]:checked");
    message.classList.remove("error");
    if (picked.unreadable.length || !picked.lines.length || !method || picked.problems.length) {
      message.classList.add("error");
      message.textContent = picked.unreadable.length ? form.dataset.unreadable + " (" + picked.unreadable.join(", ") + ")"
        : !picked.lines.length ? form.dataset.needLine : !method ? form.dataset.needMethod
        : form.dataset.needReason + " (" + picked.problems.join(", ") + ")";
      return;
    }
    var id = newId();
    var total = showTotal();
    var item = { client_id: id, point: point, user: user, made: new Date().toISOString(), state: "waiting",
                 total: total,
                 sale: { client_id: id, method: method.value, sold_at: new Date().toISOString(),
                         lines: picked.lines } };
    put(item).then(function () {
      form.querySelectorAll(".sale-product").forEach(function (row) {
        form.elements["q-" + row.dataset.id].value = "";
        form.elements["p-" + row.dataset.id].value = row.dataset.price;
        form.elements["r-" + row.dataset.id].value = "";
        row.hidden = false;
      });
      search.value = "";
      showTotal();
      message.textContent = navigator.onLine ? "" : form.dataset.kept;
      return flush();
    }).catch(function () {
      // The phone could not keep it (storage full or blocked): send it the plain way instead.
      form.submit();
    });
  });

  box.querySelector(".queue-send").addEventListener("click", flush);
  window.addEventListener("online", flush);
  window.addEventListener("offline", render);
  window.setInterval(flush, 20000);
  flush();
})();
