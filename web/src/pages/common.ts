// Pieces several pages share: badges, evidence, debounced live reloads.
import { h } from '../dom';
import { live, type StreamEvent } from '../live';
import { badgesFor, type Evidence, type ProposalLike } from '../shaping';

export function badgeList(p: ProposalLike): HTMLElement {
  return h(
    'span',
    { class: 'badges', 'data-testid': 'badges' },
    badgesFor(p).map((b) => h('span', { class: `badge ${b.tone}`, 'data-badge': b.id }, b.label)),
  );
}

export function evidenceView(e: Evidence): HTMLElement {
  return h(
    'div',
    { class: 'evidence' },
    h('q', {}, e.quote ?? ''),
    h(
      'div',
      { class: 'locator' },
      e.locator ? e.locator : 'no locator',
      e.source_url ? [' · ', h('a', { href: e.source_url, rel: 'noopener noreferrer', target: '_blank' }, 'source')] : null,
    ),
  );
}

// Calls `reload` (coalesced over a short window, never two at once) when a
// live event matches, and on a stream reset. Returns the unsubscribe.
export function reloadOn(match: (e: StreamEvent) => boolean, reload: () => Promise<void>): () => void {
  let timer: number | undefined;
  let running = false;
  let again = false;
  const run = async () => {
    if (running) return void (again = true);
    running = true;
    try {
      await reload();
    } catch (e) {
      console.warn('reload failed', e);
    } finally {
      running = false;
      if (again) (again = false), void run();
    }
  };
  const schedule = () => {
    clearTimeout(timer);
    timer = window.setTimeout(run, 60);
  };
  const offEvent = live.onEvent((e) => match(e) && schedule());
  const offReset = live.onReset(schedule);
  return () => {
    clearTimeout(timer);
    offEvent();
    offReset();
  };
}
