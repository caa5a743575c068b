// "Đọc văn bản" on the content page: "Nghe thử" asks the server for a preview (the spoken form of
// the text and a short clip) and shows it in place, keeping the form as it is. Without this file
// the same button submits the form and the page comes back with the preview.

const form = document.querySelector('form[data-speak-form]');

function setup(form) {
  const listen = form.querySelector('[data-speak-listen]');
  const box = form.querySelector('[data-speak-preview]');
  const spoken = form.querySelector('[data-speak-spoken]');
  const audio = form.querySelector('[data-speak-audio]');
  const part = form.querySelector('[data-speak-part]');
  const status = form.querySelector('[data-speak-status]');
  listen.addEventListener('click', async (ev) => {
    const f = form.elements;
    if (!f.s_text.value.trim()) return; // the server's answer names the empty field
    ev.preventDefault();
    const voice = f.s_voice.value;
    status.textContent = status.dataset.msgPreviewing;
    status.classList.remove('error');
    listen.disabled = true;
    form.dataset.state = 'previewing';
    try {
      const res = await fetch('/api/v1/speech/preview', {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'content-type': 'application/json', 'x-csrf-token': document.body.dataset.csrf },
        body: JSON.stringify({
          unit: f.s_unit.value,
          lang: (voice || 'vi').split('-')[0],
          text: f.s_text.value,
          ...(voice ? { voice } : {}),
          rate: Number(f.s_rate.value) || 150,
        }),
      });
      const body = await res.json().catch(() => null);
      if (!res.ok) {
        status.textContent = body?.error?.message ?? `HTTP ${res.status}`;
        status.classList.add('error');
        form.dataset.state = 'refused';
        return;
      }
      spoken.textContent = body.spoken;
      part.hidden = !body.truncated;
      audio.src = body.audio;
      box.hidden = false;
      status.textContent = '';
      form.dataset.state = 'previewed';
      audio.play().catch(() => {});
    } catch (e) {
      status.textContent = e?.message ?? String(e);
      status.classList.add('error');
      form.dataset.state = 'refused';
    } finally {
      listen.disabled = false;
    }
  });
}

if (form) setup(form);
