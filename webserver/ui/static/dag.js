// Progressive enhancement for the DAG page and the task instance page; both work without it.
// - forms with data-dag-confirm ask with confirm() and then skip the server's confirmation page;
// - the grid and graph re-fetch their JSON every second while a run is active and recolour in place;
// - a running task's log is followed with the log endpoint's continuation token.
(() => {
  document.documentElement.classList.add('js');
  const POLL_MS = 1000;

  document.addEventListener('submit', (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.dataset.dagConfirm) return;
    if (!window.confirm(form.dataset.dagConfirm)) {
      event.preventDefault();
      return;
    }
    const confirmed = form.querySelector('input[name="confirmed"]');
    if (confirmed) confirmed.value = '1';
  });

  for (const select of document.querySelectorAll('select[data-autosubmit]')) {
    select.addEventListener('change', () => select.form && select.form.submit());
  }

  const colors = (() => {
    const holder = document.querySelector('[data-state-colors]');
    try {
      return holder ? JSON.parse(holder.dataset.stateColors) : {};
    } catch {
      return {};
    }
  })();
  const colorOf = (state) => colors[state || 'none'] || colors.none || 'lightblue';

  async function getJson(url) {
    const response = await fetch(url, { headers: { accept: 'application/json' }, credentials: 'same-origin', cache: 'no-store' });
    if (!response.ok) throw new Error(`${response.status} from ${url}`);
    return response.json();
  }

  function setRunBadges(runId, state) {
    for (const badge of document.querySelectorAll('[data-run-state]')) {
      if (badge.dataset.runState !== runId || badge.textContent === state) continue;
      badge.textContent = state;
      badge.style.background = colorOf(state);
    }
  }

  // ---------------------------------------------------------------- grid
  const grid = document.getElementById('grid');
  if (grid) {
    grid.scrollLeft = grid.scrollWidth; // newest runs are on the right
    const table = () => grid.querySelector('table.grid');

    const recolour = (data) => {
      const t = table();
      const headers = t.querySelectorAll('thead tr.bars th[data-run-id]');
      const rows = t.tBodies[0].rows;
      data.runs.forEach((run, i) => {
        const bar = headers[i].querySelector('a.bar');
        if (bar && bar.dataset.state !== run.state) {
          bar.dataset.state = run.state;
          bar.style.background = colorOf(run.state);
        }
        setRunBadges(run.run_id, run.state);
        data.states[i].forEach((state, r) => {
          if (state === null) return;
          const square = rows[r].cells[i + 1].querySelector('.sq'); // a task's link or a group's square
          if (square && square.dataset.state !== state) {
            square.dataset.state = state;
            square.style.background = colorOf(state);
            if (!square.dataset.counts) square.title = square.title.replace(/ · [a-z_]+/, ` · ${state}`);
          }
          const counts = data.counts && data.counts[i][r];
          if (square && counts && square.dataset.counts !== counts) {
            square.dataset.counts = counts; // a mapped task's instances per state
            square.title = square.title.replace(/ · .*$/, ` · ${counts}`);
          }
        });
      });
    };

    const sameShape = (data) => {
      const t = table();
      const runIds = [...t.querySelectorAll('thead tr.bars th[data-run-id]')].map((th) => th.dataset.runId);
      const taskIds = [...t.tBodies[0].rows].map((tr) => tr.dataset.taskId || tr.dataset.groupId);
      return runIds.length === data.runs.length && data.runs.every((r, i) => r.run_id === runIds[i]) && taskIds.length === data.tasks.length && data.tasks.every((id, i) => id === taskIds[i]);
    };

    const refresh = async () => {
      const atRight = grid.scrollLeft + grid.clientWidth >= grid.scrollWidth - 4;
      const response = await fetch(grid.dataset.fragment, { credentials: 'same-origin', cache: 'no-store' });
      if (!response.ok) return;
      grid.innerHTML = await response.text(); // the server's own escaped rendering of the grid
      if (atRight) grid.scrollLeft = grid.scrollWidth;
    };

    const poll = async () => {
      if (!table() || table().dataset.active !== '1') return;
      try {
        const data = await getJson(grid.dataset.json);
        if (sameShape(data)) {
          recolour(data);
          if (!data.active) await refresh(); // final durations and bar heights
        } else {
          await refresh();
        }
      } catch {
        // A failed poll (server restarting, network) is retried on the next tick.
      }
      setTimeout(poll, POLL_MS);
    };
    setTimeout(poll, POLL_MS);
  }

  // ---------------------------------------------------------------- graph
  const graph = document.getElementById('graph');
  if (graph) {
    let active = graph.dataset.active === '1';
    const poll = async () => {
      if (!active) return;
      try {
        const data = await getJson(graph.dataset.json);
        active = data.active;
        if (data.run) setRunBadges(data.run.run_id, data.run.state);
        // A mapped task's instance count, once it has expanded in the run.
        for (const count of graph.querySelectorAll('.node[data-task-id] .mapped-count')) {
          const n = data.mapped && data.mapped[count.closest('.node').dataset.taskId];
          if (n !== undefined) count.textContent = ` [${n}]`;
        }
        for (const node of graph.querySelectorAll('.node[data-task-id]')) {
          const state = data.states[node.dataset.taskId];
          if (!state) continue;
          const box = node.querySelector('rect.box');
          if (box.dataset.state === state) continue;
          box.dataset.state = state;
          box.style.stroke = colorOf(state);
          const label = node.querySelector('text.state');
          if (label) label.textContent = state;
        }
        // A closed group's counts line, counted as the server does (most frequent first).
        for (const node of graph.querySelectorAll('.group-node[data-task-ids]')) {
          const counts = new Map();
          for (const id of JSON.parse(node.dataset.taskIds)) {
            const state = data.states[id] || 'no instance';
            counts.set(state, (counts.get(state) || 0) + 1);
          }
          const line = [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([s, c]) => `${c} ${s}`).join(' · ');
          node.querySelector('text.counts').textContent = line;
        }
      } catch {
        // retried on the next tick
      }
      setTimeout(poll, POLL_MS);
    };
    setTimeout(poll, POLL_MS);
  }

  // ---------------------------------------------------------------- task instance log
  const log = document.getElementById('log-text');
  if (log) {
    let token = log.dataset.token;
    const status = document.getElementById('log-status');
    const badge = document.getElementById('ti-state');
    const stateText = document.querySelector('[data-ti-state-text]');
    const initialTry = Number(new URL(log.dataset.url, location.href).searchParams.get('try'));
    const poll = async () => {
      let again;
      let delay = POLL_MS;
      try {
        const url = new URL(log.dataset.url, location.href);
        url.searchParams.set('token', token);
        const data = await getJson(url);
        if (data.content) {
          const atBottom = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
          log.append(document.createTextNode(data.content));
          if (atBottom) log.scrollTop = log.scrollHeight;
        }
        token = data.continuation_token;
        if (badge && badge.dataset.state !== data.state) {
          badge.dataset.state = data.state;
          badge.textContent = data.state;
          badge.style.background = colorOf(data.state);
          if (stateText) stateText.textContent = data.state;
        }
        // Keep reading while the task may still write; once it finished, drain what is left.
        again = !data.finished || Boolean(data.content);
        if (data.finished && data.content) delay = 0;
        if (status && log.dataset.following === '1') {
          if (!data.finished) status.textContent = 'Following the log…';
          else if (data.try_number > initialTry) status.textContent = `Try ${data.try_number} has started: open its tab to follow it.`;
          else status.textContent = `The task is ${data.state}.`;
        }
      } catch {
        again = log.dataset.following === '1';
      }
      if (again) setTimeout(poll, delay);
    };
    poll();
  }
})();
