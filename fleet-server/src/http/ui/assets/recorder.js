// The browser recorder ("Ghi âm", ui/recorder.tsx): records the microphone with MediaRecorder
// (Opus in WebM where the browser has it), shows the level and the elapsed time, stops itself at
// the limit, lets the operator listen back and record again. Then, as the page wants it:
// - a save form (`data-rec-form`, the content page): saving uploads the recording as the raw body
//   of the upload API (`source=recording`);
// - a file input (`data-rec-file`, the emergency page): the recording is placed in it and the
//   page's own form sends it; that form cannot be sent while a recording is running.
// Either way the server measures its length and level with ffmpeg, refuses a silent or too short
// one with a clear message, cuts the silent head and tail, transcodes and normalises it.
// Every message comes from the page (data-msg-*), in the page's language.

const roots = document.querySelectorAll('[data-recorder]');

function setup(root) {
  const $ = (sel) => root.querySelector(sel);
  const startBtn = $('[data-rec-start]');
  const stopBtn = $('[data-rec-stop]');
  const timeEl = $('[data-rec-time]');
  const meter = $('[data-rec-level]');
  const statusEl = $('[data-rec-status]');
  const review = $('[data-rec-review]');
  const audio = $('[data-rec-audio]');
  const form = $('[data-rec-form]');
  const again = $('[data-rec-again]');
  const fileInput = $('[data-rec-file]');
  const minS = Number(root.dataset.minS) || 1.5;
  const maxS = Number(root.dataset.maxS) || 600;
  const msg = (name, params = {}) =>
    (root.dataset[`msg${name}`] ?? name).replace(/\{(\w+)\}/g, (m, k) =>
      k in params ? String(params[k]) : m,
    );

  let recorder = null;
  let stream = null;
  let audioCtx = null;
  let chunks = [];
  let blob = null;
  let startedAt = 0;
  let elapsedMs = 0;
  let peak = 0;
  let ticker = 0;
  let raf = 0;
  let capped = false;

  const say = (text, isError = false) => {
    statusEl.textContent = text;
    statusEl.classList.toggle('error', isError);
    statusEl.setAttribute('role', isError ? 'alert' : 'status');
  };
  const clock = (ms) => {
    const s = Math.floor(ms / 1000);
    return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
  };

  function release() {
    cancelAnimationFrame(raf);
    clearInterval(ticker);
    if (stream) for (const t of stream.getTracks()) t.stop();
    stream = null;
    if (audioCtx) audioCtx.close().catch(() => {});
    audioCtx = null;
    meter.value = 0;
  }

  /** The level meter: the peak of each animation frame, from an analyser on the microphone. */
  function watchLevel() {
    try {
      audioCtx = new AudioContext();
      const src = audioCtx.createMediaStreamSource(stream);
      const analyser = audioCtx.createAnalyser();
      analyser.fftSize = 2048;
      src.connect(analyser);
      const buf = new Float32Array(analyser.fftSize);
      const frame = () => {
        analyser.getFloatTimeDomainData(buf);
        let p = 0;
        for (const v of buf) p = Math.max(p, Math.abs(v));
        peak = Math.max(peak, p);
        meter.value = Math.min(1, p);
        root.dataset.peak = peak.toFixed(3);
        raf = requestAnimationFrame(frame);
      };
      frame();
    } catch {
      // no Web Audio: recording works without the meter
    }
  }

  /** The recording as a file in the page's form (a recording that is not kept leaves it empty). */
  function attach(b) {
    if (!fileInput) return;
    fileInput.value = '';
    if (!b) return;
    try {
      const dt = new DataTransfer();
      dt.items.add(new File([b], `ghi-am.${extOf(b)}`, { type: b.type }));
      fileInput.files = dt.files;
    } catch {
      root.dataset.state = 'unsupported';
      say(msg('Unsupported'), true);
    }
  }

  async function start() {
    blob = null;
    attach(null);
    review.hidden = true;
    capped = false;
    if (!window.isSecureContext || !navigator.mediaDevices?.getUserMedia || !window.MediaRecorder) {
      say(msg('Unsupported'), true);
      root.dataset.state = 'unsupported';
      return;
    }
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
      });
    } catch (e) {
      const name = e?.name ?? 'Error';
      root.dataset.state = 'mic-error';
      root.dataset.error = name;
      if (name === 'NotAllowedError' || name === 'SecurityError') say(msg('Denied'), true);
      else if (name === 'NotFoundError' || name === 'OverconstrainedError') say(msg('Nomic'), true);
      else if (name === 'NotReadableError' || name === 'AbortError') say(msg('Busy'), true);
      else say(msg('Micerror', { name }), true);
      return;
    }
    const type = ['audio/webm;codecs=opus', 'audio/ogg;codecs=opus', 'audio/webm', 'audio/mp4'].find((t) =>
      MediaRecorder.isTypeSupported(t),
    );
    recorder = new MediaRecorder(stream, type ? { mimeType: type, audioBitsPerSecond: 64_000 } : {});
    chunks = [];
    peak = 0;
    recorder.addEventListener('dataavailable', (e) => {
      if (e.data.size > 0) chunks.push(e.data);
    });
    recorder.addEventListener('stop', stopped);
    recorder.start(500);
    startedAt = performance.now();
    elapsedMs = 0;
    watchLevel();
    ticker = setInterval(() => {
      elapsedMs = performance.now() - startedAt;
      timeEl.textContent = clock(elapsedMs);
      if (elapsedMs >= maxS * 1000) {
        capped = true;
        stop();
      }
    }, 250);
    startBtn.hidden = true;
    stopBtn.hidden = false;
    stopBtn.focus();
    root.dataset.state = 'recording';
    say(msg('Recording'));
  }

  function stop() {
    if (recorder && recorder.state !== 'inactive') recorder.stop();
  }

  function stopped() {
    elapsedMs = performance.now() - startedAt;
    release();
    stopBtn.hidden = true;
    startBtn.hidden = false;
    timeEl.textContent = clock(elapsedMs);
    blob = new Blob(chunks, { type: recorder.mimeType || 'audio/webm' });
    recorder = null;
    if (elapsedMs < minS * 1000) {
      root.dataset.state = 'too-short';
      say(msg('Tooshort'), true);
      return;
    }
    if (audio.src) URL.revokeObjectURL(audio.src);
    audio.src = URL.createObjectURL(blob);
    review.hidden = false;
    root.dataset.state = 'review';
    const notes = [msg('Review', { s: clock(elapsedMs) })];
    if (capped) notes.unshift(msg('Capped'));
    // a hint only: the server measures the level and refuses a silent recording itself
    if (peak > 0 && peak < 0.01) notes.push(msg('Quiet'));
    say(notes.join(' '));
    attach(blob);
    if (form) form.elements.r_title.focus();
  }

  async function save(ev) {
    ev.preventDefault();
    if (!blob) return;
    const f = form.elements;
    if (!f.r_title.value.trim()) {
      f.r_title.focus();
      f.r_title.reportValidity();
      return;
    }
    const ext = extOf(blob);
    const q = new URLSearchParams({
      title: f.r_title.value.trim(),
      unit: f.r_unit.value,
      lang: f.r_lang.value.trim() || 'vi',
      category: f.r_category.value,
      name: `ghi-am.${ext}`,
      kind: 'audio',
      source: 'recording',
    });
    for (const b of form.querySelectorAll('button')) b.disabled = true;
    root.dataset.state = 'saving';
    say(msg('Saving'));
    try {
      const res = await fetch(`/api/v1/content/upload?${q}`, {
        method: 'POST',
        credentials: 'same-origin',
        headers: {
          'content-type': blob.type || 'application/octet-stream',
          'x-csrf-token': document.body.dataset.csrf,
        },
        body: blob,
      });
      if (res.ok) {
        root.dataset.state = 'saved';
        window.location.assign(root.dataset.done);
        return;
      }
      const body = await res.json().catch(() => null);
      root.dataset.state = 'refused';
      root.dataset.error = body?.error?.code ?? `HTTP_${res.status}`;
      say(msg('Failed', { msg: body?.error?.message ?? `HTTP ${res.status}` }), true);
    } catch (e) {
      root.dataset.state = 'refused';
      say(msg('Failed', { msg: e?.message ?? String(e) }), true);
    } finally {
      for (const b of form.querySelectorAll('button')) b.disabled = false;
    }
  }

  startBtn.addEventListener('click', start);
  stopBtn.addEventListener('click', stop);
  again?.addEventListener('click', () => {
    review.hidden = true;
    start();
  });
  form?.addEventListener('submit', save);
  // the page's own form (emergency) waits for the recording to be stopped and listened to
  root.closest('form')?.addEventListener('submit', (ev) => {
    if (root.dataset.state !== 'recording') return;
    ev.preventDefault();
    say(msg('Stopfirst'), true);
    stopBtn.focus();
  });
  root.dataset.state = 'ready';
}

function extOf(b) {
  return b.type.includes('ogg') ? 'ogg' : b.type.includes('mp4') ? 'm4a' : 'webm';
}

for (const root of roots) setup(root);
