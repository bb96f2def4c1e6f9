// The home page: keeps each card's online badge and waiting count live.
(function () {
  'use strict';
  const data = JSON.parse(document.getElementById('page-data').textContent);
  const texts = data.texts || {};
  const t = (key, args) => {
    let text = texts[key] || key;
    for (const name in args || {}) text = text.split('{' + name + '}').join(String(args[name]));
    return text;
  };

  function show(state) {
    if (!state) return;
    const card = document.querySelector('.card[data-space-id="' + Number(state.space_id) + '"]');
    if (!card) return;
    const badge = card.querySelector('[data-role="worker-state"]');
    if (badge) {
      badge.className = 'badge ' + (state.connected ? 'online' : 'offline');
      badge.textContent = t(state.connected ? 'online' : 'offline');
    }
    const waiting = card.querySelector('[data-role="waiting"]');
    if (waiting) waiting.textContent = t('waitingCount', { count: state.queue_size });
  }

  if (!window.SpacesLive || !(data.spaces || []).length) return;
  const client = window.SpacesLive.connect({
    onState: (state) => {
      if (state !== 'connected') return;
      client.emit('watch_spaces');
      // The current state of each card, in case it changed since the page was rendered.
      for (const id of data.spaces.slice(0, 50)) client.emit('watch_space', { space_id: id });
    },
  });
  client.on('space_update', show);
})();
