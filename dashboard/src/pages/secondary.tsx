/** #/secondaries/<name> — one secondary: health, backlog over time, its links per charger, last errors. */
import { api } from '../api.js';
import { Badge } from '../components/badge.js';
import { Loading } from '../components/loading.js';
import { PauseButton } from '../components/pause-button.js';
import { Sparkline } from '../components/sparkline.js';
import { formatBytes, formatDuration, formatSince } from '../format.js';
import { useNow, usePoll } from '../hooks.js';
import { secondaryHealth, type SecondariesFeed } from '../live-data.js';
import { HISTORY_LENGTH } from '../rates.js';
import { href } from '../routes.js';

export function SecondaryPage({ name, feed, chargers }: { readonly name: string; readonly feed: SecondariesFeed; readonly chargers: number | undefined }) {
  const links = usePoll((signal) => api.chargers(signal), []);
  const now = useNow();
  const secondary = feed.data?.find((entry) => entry.name === name);
  const history = feed.history.get(name);
  const header = (
    <>
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href={href.overview()}>Overview</a> / <span aria-current="page">{name}</span>
      </nav>
      <h1 class="page-title">
        Secondary <span class="mono">{name}</span>
      </h1>
    </>
  );
  if (feed.data === undefined) return <>{header}<Loading error={feed.error} /></>;
  if (secondary === undefined) {
    return (
      <>
        {header}
        <p class="notice" role="status">
          No secondary named {name} is configured.
        </p>
      </>
    );
  }
  return (
    <>
      {header}
      <section class="panel" aria-labelledby="status-heading">
        <div class="panel-head">
          <h2 id="status-heading">Status</h2>
          <PauseButton name={name} paused={secondary.paused} onDone={feed.refresh} />
        </div>
        <dl class="facts">
          <dt>Health</dt>
          <dd>
            <Badge state={secondaryHealth(secondary, chargers)} testId={`secondary-state-${name}`} />
          </dd>
          <dt>URL</dt>
          <dd class="mono">{secondary.url}</dd>
          <dt>Links open</dt>
          <dd>{secondary.links_connected}</dd>
          <dt>Backlog</dt>
          <dd data-testid="secondary-backlog">
            {secondary.outbox_messages} messages · {formatBytes(secondary.outbox_bytes)}
          </dd>
          <dt>Oldest</dt>
          <dd>{secondary.oldest_age_s === null ? '—' : formatDuration(secondary.oldest_age_s)}</dd>
          <dt>Delivered</dt>
          <dd>{secondary.delivered_total}</dd>
          <dt>Dropped</dt>
          <dd>{secondary.dropped_total}</dd>
        </dl>
      </section>
      <section class="panel" aria-labelledby="backlog-heading">
        <h2 id="backlog-heading">Backlog over time</h2>
        <Sparkline values={history?.backlog ?? []} capacity={HISTORY_LENGTH} label={`Backlog of ${name} in messages, last two minutes`} height={64} testId="backlog-sparkline" />
      </section>
      <section class="panel" aria-labelledby="links-heading">
        <h2 id="links-heading">Chargers</h2>
        {links.data === undefined ? (
          <Loading error={links.error} />
        ) : links.data.length === 0 ? (
          <p class="muted">No charger connected.</p>
        ) : (
          <ul class="plain-list">
            {links.data.flatMap((charger) =>
              charger.secondaries
                .filter((link) => link.name === name)
                .map((link) => (
                  <li key={charger.id}>
                    <a href={href.charger(charger.id)}>{charger.id}</a> <Badge state={link.state} /> {link.outbox_messages} queued
                  </li>
                )),
            )}
          </ul>
        )}
      </section>
      <section class="panel" aria-labelledby="errors-heading">
        <h2 id="errors-heading">Last errors</h2>
        {history === undefined || history.errors.length === 0 ? (
          <p class="muted">None.</p>
        ) : (
          <ul class="plain-list" data-testid="secondary-errors">
            {history.errors.map((error) => (
              <li key={`${error.at} ${error.message}`}>
                <span class="muted" title={error.at}>
                  {formatSince(error.at, now)}
                </span>{' '}
                {error.charger === undefined ? null : (
                  <>
                    <a href={href.charger(error.charger)}>{error.charger}</a>:{' '}
                  </>
                )}
                {error.message}
              </li>
            ))}
          </ul>
        )}
      </section>
    </>
  );
}
