// biome-ignore-all lint/correctness/noInnerDeclarations: ES5 (var) for old Android browsers
// biome-ignore-all lint/complexity/useOptionalChain: ES5 for old Android browsers
/* Citizens' page script: ES5 only (old Android browsers), everything optional. Live emergency
   banner (SSE, else polling), offline copy (service worker), Web Push, and the feedback form's
   proof of work (SHA-256 in plain JS: crypto.subtle is missing on plain-HTTP pages). */
(() => {
  var body = document.body;
  var unit = body.getAttribute('data-unit');
  var base = '/p/' + unit;
  var lang = body.getAttribute('data-lang') === 'en' ? '?lang=en' : '';

  var off = document.getElementById('off');
  function onlineState() {
    if (off) off.hidden = navigator.onLine !== false;
  }
  window.addEventListener('online', onlineState);
  window.addEventListener('offline', onlineState);
  onlineState();

  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register('/p/sw.js', { scope: '/p/' }).catch(() => {});
  }

  // ---- live banner
  var alerts = document.getElementById('alerts');
  var lastAlerts = alerts ? alerts.innerHTML : '';
  function refreshAlerts() {
    if (!alerts || !window.XMLHttpRequest) return;
    var x = new XMLHttpRequest();
    x.open('GET', base + '/alerts' + lang);
    x.onload = () => {
      if (x.status === 200 && x.responseText !== lastAlerts) {
        lastAlerts = x.responseText;
        alerts.innerHTML = x.responseText;
        if (alerts.firstElementChild && alerts.firstElementChild.scrollIntoView) window.scrollTo(0, 0);
      }
    };
    x.send();
  }
  if (alerts) {
    if (window.EventSource) {
      var es = new EventSource(base + '/live');
      es.addEventListener('emergency', refreshAlerts);
      es.onerror = () => {};
    } else {
      setInterval(refreshAlerts, 60000);
    }
  }

  // ---- web push
  var pushBtn = document.getElementById('push');
  function b64ToBytes(s) {
    var pad = '===='.slice(s.length % 4 || 4);
    var raw = atob((s + pad).replace(/-/g, '+').replace(/_/g, '/'));
    var out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  }
  if (pushBtn && 'serviceWorker' in navigator && window.PushManager && window.fetch && window.Notification) {
    pushBtn.hidden = false;
    pushBtn.addEventListener('click', () => {
      Notification.requestPermission()
        .then(() => navigator.serviceWorker.ready)
        .then((reg) =>
          fetch(base + '/push/key')
            .then((r) => r.json())
            .then((k) =>
              reg.pushManager.subscribe({
                userVisibleOnly: true,
                applicationServerKey: b64ToBytes(k.publicKey),
              }),
            ),
        )
        .then((sub) =>
          fetch(base + '/push/subscribe', {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(sub),
          }),
        )
        .then((r) => {
          if (!r.ok) throw new Error('push');
          pushBtn.textContent = pushBtn.getAttribute('data-done');
          pushBtn.disabled = true;
        })
        .catch(() => {
          pushBtn.textContent = pushBtn.getAttribute('data-fail');
        });
    });
  }

  // ---- feedback proof of work
  var K = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
  ];
  var W = new Array(64);
  // SHA-256 of an ASCII string; returns the first two state words (enough to count leading zeros)
  function sha256head(s) {
    var n = s.length;
    var words = ((n + 9 + 63) >> 6) << 4;
    var m = new Array(words);
    for (var i = 0; i < words; i++) m[i] = 0;
    for (i = 0; i < n; i++) m[i >> 2] |= s.charCodeAt(i) << (24 - (i % 4) * 8);
    m[n >> 2] |= 0x80 << (24 - (n % 4) * 8);
    m[words - 1] = n * 8;
    var h0 = 0x6a09e667,
      h1 = 0xbb67ae85,
      h2 = 0x3c6ef372,
      h3 = 0xa54ff53a;
    var h4 = 0x510e527f,
      h5 = 0x9b05688c,
      h6 = 0x1f83d9ab,
      h7 = 0x5be0cd19;
    for (var o = 0; o < words; o += 16) {
      var a = h0,
        b = h1,
        c = h2,
        d = h3,
        e = h4,
        f = h5,
        g = h6,
        h = h7;
      for (var j = 0; j < 64; j++) {
        if (j < 16) W[j] = m[o + j] | 0;
        else {
          var x = W[j - 15],
            y = W[j - 2];
          W[j] =
            ((((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)) +
              W[j - 7] +
              (((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10)) +
              W[j - 16]) |
            0;
        }
        var t1 =
          (h +
            (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) +
            ((e & f) ^ (~e & g)) +
            K[j] +
            W[j]) |
          0;
        var t2 =
          ((((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) +
            ((a & b) ^ (a & c) ^ (b & c))) |
          0;
        h = g;
        g = f;
        f = e;
        e = (d + t1) | 0;
        d = c;
        c = b;
        b = a;
        a = (t1 + t2) | 0;
      }
      h0 = (h0 + a) | 0;
      h1 = (h1 + b) | 0;
      h2 = (h2 + c) | 0;
      h3 = (h3 + d) | 0;
      h4 = (h4 + e) | 0;
      h5 = (h5 + f) | 0;
      h6 = (h6 + g) | 0;
      h7 = (h7 + h) | 0;
    }
    return [h0 >>> 0, h1 >>> 0];
  }
  function zeros(h) {
    if (h[0] !== 0) return Math.clz32 ? Math.clz32(h[0]) : 31 - Math.floor(Math.log(h[0]) / Math.LN2);
    return (
      32 + (h[1] === 0 ? 32 : Math.clz32 ? Math.clz32(h[1]) : 31 - Math.floor(Math.log(h[1]) / Math.LN2))
    );
  }
  var form = document.getElementById('fb');
  if (form) {
    var solving = false;
    form.addEventListener('submit', (ev) => {
      if (form.nonce.value) return;
      ev.preventDefault();
      if (solving) return;
      solving = true;
      var btn = form.querySelector('button[type=submit]');
      if (btn) {
        btn.disabled = true;
        btn.textContent = btn.getAttribute('data-working');
      }
      var token = form.pow.value;
      var bits = Number(token.split('.')[2]) || 14;
      var i = 0;
      (function step() {
        for (var k = 0; k < 4000; k++, i++) {
          var nonce = i.toString(36);
          if (zeros(sha256head(token + ':' + nonce)) >= bits) {
            form.nonce.value = nonce;
            form.submit();
            return;
          }
        }
        setTimeout(step, 0);
      })();
    });
  }
})();
