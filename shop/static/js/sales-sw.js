// The direct-sales screen's service worker (#28), served at /staf/penjualan/sw.js: the screen opens at an exhibition
// without a connection. Pages: the network first, the last copy when offline. Styles and scripts: the copy kept,
// refreshed in the background. Sending sales, tokens and anything but GET always go to the network.
var CACHE = "kb-direct-sales-v2";  // a new name with each change of this file: the old copies are dropped

self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) { return name !== CACHE; })
      .map(function (name) { return caches.delete(name); }));
  }).then(function () { return self.clients.claim(); }));
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) { return; }
  if (url.pathname.indexOf("/static/") === 0 && url.pathname.indexOf("/static/js/sales") !== 0) {
    event.respondWith(caches.open(CACHE).then(function (cache) {
      return cache.match(request).then(function (kept) {
        var fresh = fetch(request).then(function (response) {
          if (response.ok) { cache.put(request, response.clone()); }
          return response;
        }).catch(function () { return kept; });
        return kept || fresh;
      });
    }));
    return;
  }
  if ((request.mode === "navigate" && /^\/staf\/penjualan\/\d+$/.test(url.pathname)) ||
      url.pathname.indexOf("/static/js/sales") === 0) {
    event.respondWith(fetch(request).then(function (response) {
      if (response.ok) {
        var copy = response.clone();
        caches.open(CACHE).then(function (cache) { cache.put(request, copy); });
      }
      return response;
    }).catch(function () {
      return caches.open(CACHE).then(function (cache) { return cache.match(request); }).then(function (kept) {
        return kept || Response.error();
      });
    }));
  }
});
