// The space page: live worker/queue state, the request form with upload progress, and the visitor's requests
// with live status and results. Worker values are untrusted: everything goes in through textContent and checked
// URLs, never innerHTML.
(function () {
  'use strict';

  const data = JSON.parse(document.getElementById('page-data').textContent);
  const texts = data.texts || {};
  const spaceId = data.space_id;
  const $ = (id) => document.getElementById(id);
  const FINAL = ['completed', 'failed', 'timeout', 'canceled'];
  const STATUS_PHRASE = {
    queued: 'statusQueued', processing: 'statusProcessing', completed: 'statusCompleted',
    failed: 'statusFailed', timeout: 'statusTimeout', canceled: 'statusCanceled',
  };

  function t(key, args) {
    let text = texts[key] || key;
    for (const name in args || {}) text = text.split('{' + name + '}').join(String(args[name]));
    return text;
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function duration(seconds) {
    const s = Math.max(0, Math.floor(seconds));
    if (s < 60) return s + 's';
    if (s < 3600) return Math.floor(s / 60) + 'm ' + String(s % 60).padStart(2, '0') + 's';
    return Math.floor(s / 3600) + 'h ' + String(Math.floor((s % 3600) / 60)).padStart(2, '0') + 'm';
  }

  function formatSize(bytes) {
    if (bytes >= 1048576) return (Math.round(bytes / 104857.6) / 10) + ' MB';
    if (bytes >= 1024) return (Math.round(bytes / 102.4) / 10) + ' KB';
    return bytes + ' B';
  }

  // ---- Space state (everyone) ----

  function showSpaceState(state) {
    if (!state || state.space_id !== spaceId) return;
    const online = !!state.connected;
    const badge = $('worker-state');
    if (badge) {
      badge.className = 'badge ' + (online ? 'online' : 'offline');
      badge.dataset.connected = String(online);
      badge.textContent = t(online ? 'workerOnline' : 'workerOffline');
    }
    const waiting = $('queue-size');
    if (waiting) {
      waiting.dataset.count = String(state.queue_size);
      waiting.textContent = t('waitingCount', { count: state.queue_size });
    }
    const processing = $('processing-count');
    if (processing) {
      processing.dataset.count = String(state.processing);
      processing.textContent = t('processingCount', { count: state.processing });
    }
    const note = $('offline-note');
    if (note) note.hidden = online;
  }

  async function getJSON(url) {
    const response = await fetch(url, { headers: { Accept: 'application/json' }, credentials: 'same-origin' });
    if (!response.ok) throw new Error('HTTP ' + response.status);
    return response.json();
  }

  async function refreshSpaceState() {
    try { showSpaceState(await getJSON('/api/spaces/' + spaceId)); } catch (error) { /* next round */ }
  }

  // ---- Requests (logged-in visitors) ----

  const list = $('requests');
  const records = new Map(); // request_id -> {record, node, shown}

  function rank(record) {
    return FINAL.includes(record.status) ? 2 : record.status === 'processing' ? 1 : 0;
  }

  // Keeps the newer of two views of a request, so a slow list fetch never undoes a live update.
  function isNewer(incoming, current) {
    if (!current) return true;
    const a = Date.parse(incoming.updated_at || '') || 0;
    const b = Date.parse(current.updated_at || '') || 0;
    return a > b || (a === b && rank(incoming) >= rank(current));
  }

  function upsert(incoming, prepend) {
    const entry = records.get(incoming.request_id);
    if (entry) {
      if (!isNewer(incoming, entry.record)) return;
      for (const key in incoming) if (incoming[key] !== undefined) entry.record[key] = incoming[key];
      render(entry);
      return;
    }
    const created = { record: Object.assign({}, incoming), node: element('li', 'request'), shown: '' };
    records.set(incoming.request_id, created);
    if (prepend) list.prepend(created.node); else list.append(created.node);
    render(created);
    $('no-requests').hidden = true;
  }

  function render(entry) {
    const record = entry.record;
    const node = entry.node;
    node.dataset.requestId = record.request_id;
    node.dataset.status = record.status;
    const active = !FINAL.includes(record.status);
    // The parts that change every second or with progress are rebuilt; the result only when it changes.
    const key = record.status + '|' + (record.progress ?? '') + '|' + (record.progress_message ?? '') + '|'
      + (record.queue_position ?? '') + '|' + (FINAL.includes(record.status) ? JSON.stringify(record.result ?? null) + (record.error || '') : '');
    if (key === entry.shown) { updateElapsed(entry); return; }
    entry.shown = key;
    node.textContent = '';

    const head = element('div', 'request-head');
    head.append(element('span', 'status status-' + record.status, t(STATUS_PHRASE[record.status] || record.status)));
    if (record.created_at) {
      const when = new Date(record.created_at);
      const sent = element('time', 'meta submitted', t('submittedAt', { time: when.toLocaleTimeString(data.language) }));
      sent.dateTime = record.created_at;
      head.append(sent);
    }
    head.append(element('span', 'meta elapsed'));
    if (record.status === 'queued' && record.queue_position) {
      head.append(element('span', 'meta position', t('queuePosition', { position: record.queue_position })));
    }
    if (active) {
      const cancel = element('button', 'secondary cancel', t('cancel'));
      cancel.type = 'button';
      cancel.addEventListener('click', () => cancelRequest(record.request_id, cancel));
      head.append(cancel);
    }
    node.append(head);
    if (record.prompt) node.append(element('p', 'prompt-text', record.prompt));
    if (record.status === 'processing' && (record.progress !== null && record.progress !== undefined || record.progress_message)) {
      if (record.progress !== null && record.progress !== undefined) {
        const bar = element('progress', 'progress');
        bar.max = 100;
        bar.value = Math.round(Number(record.progress) * 100);
        bar.setAttribute('aria-label', t(STATUS_PHRASE.processing));
        node.append(bar);
      }
      if (record.progress_message) node.append(element('span', 'meta progress-message', record.progress_message));
    }
    if (!active) node.append(renderOutcome(record));
    updateElapsed(entry);
  }

  function updateElapsed(entry) {
    const record = entry.record;
    const target = entry.node.querySelector('.elapsed');
    if (!target || !record.created_at) return;
    const start = Date.parse(record.created_at);
    const end = record.finished_at ? Date.parse(record.finished_at) : Date.now();
    target.textContent = t('elapsed', { time: duration((end - start) / 1000) });
  }

  // ---- Results, by kind ----

  // A URL a result may use: http(s) (absolute or relative to this site), or for media a data URL of that
  // media type (never SVG). Anything else (javascript:, vbscript:, data:text/html...) is refused.
  function safeURL(value, kind) {
    if (typeof value !== 'string') return null;
    const text = value.trim();
    if (/^data:/i.test(text)) {
      const match = /^data:([a-z]+)\/([a-z0-9.+-]+)[;,]/i.exec(text);
      if (match && match[1].toLowerCase() === kind && !/svg/i.test(match[2])) return text;
      return null;
    }
    let url;
    try { url = new URL(text, window.location.href); } catch (error) { return null; }
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  }

  function blocked(value) {
    return element('p', 'blocked', t('blockedLink', { url: String(value).slice(0, 120) }));
  }

  function media(tag, value, kind) {
    const url = safeURL(value, kind);
    if (!url) return blocked(value);
    const node = element(tag, 'result-' + kind);
    if (tag !== 'img') node.controls = true;
    node.src = url;
    if (tag === 'img') node.alt = '';
    return node;
  }

  function fileLink(value) {
    const url = safeURL(typeof value === 'object' && value ? value.url : value, 'link');
    const name = (value && typeof value === 'object' && value.name) || (typeof value === 'string' ? value.split('?')[0].split('/').pop() : '') || 'file';
    if (!url) return blocked(typeof value === 'object' && value ? value.url : value);
    const link = element('a', 'result-file', t('download', { name: name }));
    link.href = url;
    link.rel = 'noopener noreferrer';
    link.target = '_blank';
    return link;
  }

  function renderResultValue(result) {
    const out = element('div', 'result');
    if (result === null || result === undefined) return out;
    if (typeof result === 'string') {
      out.append(element('div', 'text-output', result));
      return out;
    }
    if (typeof result !== 'object' || Array.isArray(result)) {
      out.append(element('pre', 'json', JSON.stringify(result, null, 2)));
      return out;
    }
    const shown = new Set();
    for (const key of ['text_output', 'output', 'text']) {
      if (typeof result[key] === 'string') {
        out.append(element('div', 'text-output', result[key]));
        shown.add(key);
        break;
      }
    }
    if (result.image_url !== undefined) { out.append(media('img', result.image_url, 'image')); shown.add('image_url'); }
    if (typeof result.image === 'string') { out.append(media('img', result.image, 'image')); shown.add('image'); }
    if (result.audio_url !== undefined) { out.append(media('audio', result.audio_url, 'audio')); shown.add('audio_url'); }
    if (result.video_url !== undefined) { out.append(media('video', result.video_url, 'video')); shown.add('video_url'); }
    const files = [];
    if (result.file_url !== undefined) { files.push(result.file_url); shown.add('file_url'); }
    if (Array.isArray(result.files)) { files.push(...result.files); shown.add('files'); }
    if (files.length) {
      const items = element('ul', 'result-files');
      for (const file of files.slice(0, 50)) { const item = element('li'); item.append(fileLink(file)); items.append(item); }
      out.append(items);
    }
    const rest = Object.keys(result).filter((key) => !shown.has(key));
    if (shown.size === 0) {
      out.append(element('pre', 'json', JSON.stringify(result, null, 2)));
    } else if (rest.length) {
      const details = element('details', 'result-details');
      details.append(element('summary', null, t('resultDetails')));
      details.append(element('pre', 'json', JSON.stringify(result, null, 2)));
      out.append(details);
    }
    return out;
  }

  function renderOutcome(record) {
    if (record.status === 'completed') return renderResultValue(record.result);
    const box = element('div', 'result');
    if (record.error) box.append(element('p', 'error request-error', record.error));
    if (record.result !== null && record.result !== undefined) box.append(renderResultValue(record.result));
    return box;
  }

  // ---- Loading and refreshing ----

  let listLoading = null;
  let listAgain = false;

  async function refreshList() {
    if (listLoading) { listAgain = true; return listLoading; }
    listLoading = (async () => {
      try {
        const answer = await getJSON('/websockets/requests?space_id=' + spaceId + '&results=1&limit=50');
        const items = answer.requests || [];
        for (const item of items.slice().reverse()) upsert(item, true);
        // Server order (newest first) wins, whatever order events arrived in.
        for (const item of items) { const entry = records.get(item.request_id); if (entry) list.append(entry.node); }
        $('no-requests').hidden = records.size > 0;
      } catch (error) {
        console.debug('request list', error);
      }
    })();
    await listLoading;
    listLoading = null;
    if (listAgain) { listAgain = false; refreshList(); }
  }

  let refreshTimer = null;
  function refreshSoon() {
    if (refreshTimer) return;
    refreshTimer = setTimeout(() => { refreshTimer = null; refreshList(); }, 250);
  }

  function applyUpdate(update) {
    if (!update || update.space_id !== spaceId) return;
    if (!records.has(update.request_id)) { refreshSoon(); return; }
    const record = {
      request_id: update.request_id, status: update.status, progress: update.progress,
      queue_position: update.queue_position, updated_at: update.updated_at,
    };
    if (update.message !== undefined) record.progress_message = update.message;
    if (FINAL.includes(update.status)) {
      record.result = update.result;
      record.error = update.error;
      record.finished_at = update.updated_at;
    }
    if (update.status === 'processing' && !records.get(update.request_id).record.started_at) record.started_at = update.updated_at;
    upsert(record, true);
  }

  async function cancelRequest(requestId, button) {
    button.disabled = true;
    button.textContent = t('canceling');
    try {
      const response = await fetch('/websockets/cancel/' + encodeURIComponent(requestId), {
        method: 'POST', headers: { Accept: 'application/json' }, credentials: 'same-origin',
      });
      const body = await response.json().catch(() => ({}));
      if (!response.ok) showFormError(t('requestFailed', { message: body.error || response.status }));
    } catch (error) {
      showFormError(t('networkError'));
    }
    refreshList();
  }

  // ---- The form ----

  function showFormError(message) {
    const box = $('form-error');
    if (!box) return;
    box.textContent = message || '';
    box.hidden = !message;
  }

  function setupForm() {
    const form = $('submit-form');
    if (!form) return;
    const button = $('submit-button');
    const bar = $('upload-progress');
    const status = $('upload-text');
    const limit = Number(form.dataset.maxBytes) || Infinity;

    form.addEventListener('submit', (event) => {
      event.preventDefault();
      showFormError('');
      let hasInput = false;
      for (const field of form.elements) {
        if (field.type === 'file') {
          for (const file of field.files) {
            hasInput = true;
            if (file.size > limit) {
              showFormError(t('fileTooLarge', { name: file.name, size: formatSize(limit) }));
              field.focus();
              return;
            }
          }
        } else if ((field.name === 'prompt' || field.name === 'audio_url') && field.value.trim()) {
          hasInput = true;
        }
      }
      if (!hasInput) { showFormError(t('nothingToSend')); return; }

      const body = new FormData(form);
      const request = new XMLHttpRequest();
      request.open('POST', form.action);
      request.setRequestHeader('Accept', 'application/json');
      request.responseType = 'json';
      button.disabled = true;
      bar.hidden = false;
      bar.value = 0;
      status.textContent = t('sending');
      request.upload.addEventListener('progress', (progress) => {
        if (!progress.lengthComputable) return;
        const percent = Math.floor((progress.loaded / progress.total) * 100);
        bar.value = percent;
        status.textContent = t('uploading', { percent: percent });
      });
      request.addEventListener('loadend', () => {
        button.disabled = false;
        bar.hidden = true;
        status.textContent = '';
        const answer = request.response || {};
        if (request.status === 0) { showFormError(t('networkError')); return; }
        if (request.status < 200 || request.status >= 300 || !answer.request_id) {
          showFormError(t('requestFailed', { message: answer.error || request.status }));
          return;
        }
        const now = new Date().toISOString();
        upsert({
          request_id: answer.request_id, space_id: spaceId, status: answer.status || 'queued',
          queue_position: answer.queue_position, created_at: now, updated_at: '1970-01-01T00:00:00Z',
          prompt: body.get('prompt') || null,
        }, true);
        form.reset();
        refreshList();
      });
      request.send(body);
    });
  }

  // ---- Live updates, with a polling fallback ----

  const liveState = $('live-state');
  let pollTimer = null;

  function setLiveMode(mode, text) {
    if (!liveState) return;
    liveState.dataset.mode = mode;
    liveState.textContent = text;
  }

  // Without Socket.IO the page asks the status endpoint about each unfinished request, and the space state.
  async function pollOnce() {
    await refreshSpaceState();
    if (!list) return;
    const active = [...records.values()].filter((entry) => !FINAL.includes(entry.record.status)).slice(0, 20);
    for (const entry of active) {
      try {
        const status = await getJSON('/websockets/status?request_id=' + encodeURIComponent(entry.record.request_id));
        upsert({
          request_id: status.request_id, status: status.status, progress: status.progress,
          progress_message: status.progress_message, queue_position: status.queue_position, result: status.result,
          error: status.error, updated_at: status.updated_at, started_at: status.started_at, finished_at: status.finished_at,
        }, true);
      } catch (error) { /* next round */ }
    }
  }

  function startPolling() {
    if (pollTimer) return;
    const round = async () => { await pollOnce(); if (pollTimer) pollTimer = setTimeout(round, 2000); };
    pollTimer = setTimeout(round, 0);
  }

  function stopPolling() {
    if (pollTimer) clearTimeout(pollTimer);
    pollTimer = null;
  }

  function startLive() {
    if (!window.SpacesLive) {
      setLiveMode('status-polling', t('liveUnavailable'));
      startPolling();
      return;
    }
    // If nothing connects soon, poll meanwhile; live updates take over when they come.
    const slowStart = setTimeout(startPolling, 8000);
    const client = window.SpacesLive.connect({
      onState: (state, transport) => {
        if (state === 'connected') {
          clearTimeout(slowStart);
          stopPolling();
          setLiveMode(transport === 'websocket' ? 'websocket' : 'polling', t(transport === 'websocket' ? 'liveWebSocket' : 'livePolling'));
          client.emit('watch_space', { space_id: spaceId });
          if (list) refreshList(); // catch up on what happened while not connected
        } else if (state === 'failed') {
          setLiveMode('status-polling', t('liveUnavailable'));
          startPolling();
        } else if (state === 'disconnected') {
          setLiveMode('connecting', t('liveConnecting'));
          startPolling();
        }
      },
    });
    client.on('space_update', showSpaceState);
    client.on('request_update', (update) => {
      applyUpdate(update);
      if (update && update.status !== 'queued') refreshPositionsSoon();
    });
    client.on('space_update', () => refreshPositionsSoon());
  }

  // Others' requests moving changes our positions: re-read them when we have requests waiting.
  function refreshPositionsSoon() {
    if (!list) return;
    for (const entry of records.values()) if (entry.record.status === 'queued') { refreshSoon(); return; }
  }

  if (list) {
    setupForm();
    refreshList();
    setInterval(() => { for (const entry of records.values()) if (!FINAL.includes(entry.record.status)) updateElapsed(entry); }, 1000);
  }
  startLive();
})();
