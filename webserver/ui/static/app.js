// Progressive enhancement only: every page works without this file.
(() => {
  const csrf = document.querySelector('meta[name="csrf-token"]')?.content ?? '';
  window.airflowTs = { csrf };
})();

// ------------------------------------------------------------- DAG list, trigger form (pages/dagList.ts, pages/trigger.ts)
(() => {
  const csrf = () => window.airflowTs?.csrf ?? document.querySelector('meta[name="csrf-token"]')?.content ?? '';

  /** Shows a message in the page's [data-flash] line (role=status). */
  const flash = (message, isError) => {
    const line = document.querySelector('[data-flash]');
    if (!line) return;
    line.textContent = message;
    line.classList.toggle('error', Boolean(isError));
    line.hidden = false;
  };

  /** Reflects a DAG's paused flag in its toggle form and row. */
  const showPaused = (form, paused) => {
    const button = form.querySelector('.list-switch');
    const field = form.elements.namedItem('is_paused');
    const dagId = form.closest('tr')?.dataset.dagId ?? '';
    field.value = paused ? 'false' : 'true';
    button.setAttribute('aria-checked', paused ? 'false' : 'true');
    button.setAttribute('aria-label', `${paused ? 'Unpause' : 'Pause'} ${dagId}`);
    button.title = paused ? 'Paused: click to unpause' : 'Active: click to pause';
    form.closest('tr')?.classList.toggle('list-paused', paused);
  };

  // Pause/unpause without a reload: the same endpoint as the plain form, asked for JSON.
  document.addEventListener('submit', async (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.classList.contains('list-toggle')) return;
    event.preventDefault();
    const button = form.querySelector('.list-switch');
    if (!button || button.disabled || form.dataset.busy) return;
    const paused = form.elements.namedItem('is_paused').value === 'true';
    const dagId = form.closest('tr')?.dataset.dagId ?? '';
    form.dataset.busy = '1';
    button.setAttribute('aria-busy', 'true');
    try {
      const response = await fetch(form.action, {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': csrf() },
        body: JSON.stringify({ is_paused: paused }),
      });
      const body = await response.json().catch(() => null);
      if (!response.ok) throw new Error(body?.error ?? (response.status === 403 ? 'not allowed (HTTP 403); your role may not change DAGs, or the page is stale: reload it' : `HTTP ${response.status}`));
      showPaused(form, body.is_paused);
      flash(`${dagId} ${body.is_paused ? 'paused' : 'unpaused'}.`, false);
    } catch (error) {
      flash(`Could not ${paused ? 'pause' : 'unpause'} ${dagId}: ${error.message}`, true);
    } finally {
      delete form.dataset.busy;
      button.removeAttribute('aria-busy');
    }
  });

  // Filters: choosing a tag applies it at once.
  document.addEventListener('change', (event) => {
    const select = event.target;
    if (select instanceof HTMLSelectElement && select.hasAttribute('data-autosubmit') && select.value) select.form?.requestSubmit();
  });

  // Trigger form: conf must be a JSON object with the required params (the server checks everything again).
  document.addEventListener('submit', (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute('data-conf-form')) return;
    const area = form.elements.namedItem('conf');
    const out = form.querySelector('[data-conf-error]');
    let required = [];
    try {
      required = JSON.parse(form.dataset.required || '[]');
    } catch {
      // not JSON: nothing is required
    }
    let problem = null;
    let conf = {};
    const text = area.value.trim();
    if (text) {
      try {
        conf = JSON.parse(text);
        if (conf === null || typeof conf !== 'object' || Array.isArray(conf)) problem = 'conf must be a JSON object, like {"name": "value"}';
      } catch (error) {
        problem = `conf is not valid JSON: ${error.message}`;
      }
    }
    if (!problem) {
      const missing = required.filter((key) => !Object.hasOwn(conf, key));
      if (missing.length) problem = `conf is missing the required param${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (no default)`;
    }
    if (problem) {
      event.preventDefault();
      out.textContent = problem;
      out.hidden = false;
      area.setAttribute('aria-invalid', 'true');
      area.focus();
    } else {
      out.hidden = true;
      area.removeAttribute('aria-invalid');
    }
  });
})();
