/* Quick capture's service worker: keeps the page shell so /capture opens without network.
 *
 * Served by quick_views.service_worker, which fills in the shell list (the
 * page and its static files, with their deployed names) and a version that
 * changes whenever they do. Entries are not handled here: the page queues them
 * in IndexedDB and syncs them itself.
 */
"use strict";

const SHELL = "__SHELL__";
const CACHE = "tandem-quick-__VERSION__";
const PAGE = SHELL[0];
const ASSETS = SHELL.slice(1);

async function cachePage(cache) {
  // Only a real page: a redirect to the login page must never be kept as /capture.
  const response = await fetch(PAGE, { credentials: "same-origin", cache: "no-store" });
  if (response.ok && !response.redirected) await cache.put(PAGE, response);
}

self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      await cache.addAll(ASSETS);
      await cachePage(cache).catch(() => {});
      await self.skipWaiting();
    })()
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const key of await caches.keys()) {
        if (key.startsWith("tandem-quick-") && key !== CACHE) await caches.delete(key);
      }
      await self.clients.claim();
    })()
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;

  if (url.pathname === PAGE && request.mode === "navigate") {
    // Network first, so the page is fresh when online; the kept copy when not.
    event.respondWith(
      (async () => {
        const cache = await caches.open(CACHE);
        try {
          const response = await fetch(request);
          if (response.ok && !response.redirected) await cache.put(PAGE, response.clone());
          return response;
        } catch (err) {
          const kept = await cache.match(PAGE);
          if (kept) return kept;
          return new Response(
            "<!doctype html><meta name=viewport content='width=device-width'>" +
              "<p>Offline, and this page was not saved on this phone yet. " +
              "Open it once with network.</p>",
            { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } }
          );
        }
      })()
    );
    return;
  }

  if (ASSETS.includes(url.pathname)) {
    event.respondWith(
      (async () => {
        const cache = await caches.open(CACHE);
        const kept = await cache.match(url.pathname);
        if (kept) return kept;
        const response = await fetch(request);
        if (response.ok) await cache.put(url.pathname, response.clone());
        return response;
      })()
    );
  }
});
