// biome-ignore-all lint/correctness/noInnerDeclarations: ES5 (var) for old Android browsers
// biome-ignore-all lint/complexity/useOptionalChain: ES5 for old Android browsers
/* Service worker of the citizens' pages (scope /p/): pages network first with the last copy kept
   for offline use; listen-again audio cached once fetched whole (answers byte ranges from the
   cache); emergency notifications shown from Web Push. */

var PAGES = 'loa-p-pages-v1';
var AUDIO = 'loa-p-audio-v1';

self.addEventListener('install', () => {
  self.skipWaiting();
});
self.addEventListener('activate', (e) => {
  e.waitUntil(self.clients.claim());
});

function rangeFrom(resp, header) {
  var m = /^bytes=(\d*)-(\d*)$/.exec(header || '');
  return resp.arrayBuffer().then((buf) => {
    var size = buf.byteLength;
    if (!m)
      return new Response(buf, {
        status: 200,
        headers: { 'content-type': 'audio/ogg', 'accept-ranges': 'bytes' },
      });
    var start = m[1] === '' ? Math.max(0, size - Number(m[2])) : Number(m[1]);
    var end = m[1] !== '' && m[2] !== '' ? Math.min(Number(m[2]), size - 1) : size - 1;
    return new Response(buf.slice(start, end + 1), {
      status: 206,
      headers: {
        'content-type': 'audio/ogg',
        'content-range': 'bytes ' + start + '-' + end + '/' + size,
        'content-length': String(end - start + 1),
        'accept-ranges': 'bytes',
      },
    });
  });
}

self.addEventListener('fetch', (e) => {
  var req = e.request;
  if (req.method !== 'GET') return;
  var url = new URL(req.url);
  if (url.origin !== self.location.origin || url.pathname.indexOf('/p/') !== 0) return;
  if (/\/live$/.test(url.pathname) || /\/push\//.test(url.pathname)) return;
  if (/^\/p\/a\/[0-9a-f]{64}\.ogg$/.test(url.pathname)) {
    e.respondWith(
      caches.open(AUDIO).then((c) =>
        c.match(url.pathname).then((hit) => {
          if (hit) return rangeFrom(hit, req.headers.get('range'));
          return fetch(req).then((resp) => {
            if (resp.status === 200) {
              c.put(url.pathname, resp.clone());
            } else if (resp.status === 206) {
              // fetch the whole file once in the background for offline listening
              fetch(url.pathname).then((full) => {
                if (full.status === 200) c.put(url.pathname, full);
              });
            }
            return resp;
          });
        }),
      ),
    );
    return;
  }
  e.respondWith(
    fetch(req)
      .then((resp) => {
        if (resp.status === 200) {
          var copy = resp.clone();
          caches.open(PAGES).then((c) => {
            c.put(req, copy);
          });
        }
        return resp;
      })
      .catch(() => caches.open(PAGES).then((c) => c.match(req).then((hit) => hit || Response.error()))),
  );
});

self.addEventListener('push', (e) => {
  var d = {};
  try {
    d = e.data ? e.data.json() : {};
  } catch (_err) {
    d = { title: e.data ? e.data.text() : '' };
  }
  e.waitUntil(
    self.registration.showNotification(d.title || 'Cảnh báo khẩn cấp', {
      body: d.body || '',
      tag: d.tag || 'loa-emergency',
      requireInteraction: true,
      data: { url: d.url || '/p/' },
    }),
  );
});

self.addEventListener('notificationclick', (e) => {
  e.notification.close();
  e.waitUntil(
    self.clients.openWindow(e.notification.data && e.notification.data.url ? e.notification.data.url : '/p/'),
  );
});
