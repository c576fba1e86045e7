/** #/ — counts, charts, and the chargers and secondaries tables. */
import { api } from '../api.js';
import { Badge } from '../components/badge.js';
import { Bars } from '../components/bars.js';
import { Loading } from '../components/loading.js';
import { PauseButton } from '../components/pause-button.js';
import { Sparkline } from '../components/sparkline.js';
import { formatBytes, formatDuration, formatRate, formatSince } from '../format.js';
import { usePoll, useNow } from '../hooks.js';
import { secondaryHealth, type SecondariesFeed, type StatusFeed } from '../live-data.js';
import { HISTORY_LENGTH } from '../rates.js';
import { href } from '../routes.js';
import type { Charger, Status } from '../types.js';

export function Overview({ status, secondaries }: { readonly status: StatusFeed; readonly secondaries: SecondariesFeed }) {
  const chargers = usePoll((signal) => api.chargers(signal), []);
  const now = useNow();
  const counts = status.data?.counts;
  return (
    <>
      <section class="cards" aria-label="Counts">
        <Card label="Chargers" value={counts?.chargers} testId="count-chargers" note={counts === undefined ? undefined : `${String(counts.pending_handshakes)} handshaking`} />
        <Card
          label="Secondaries"
          value={counts?.secondaries}
          testId="count-secondaries"
          note={counts === undefined ? undefined : `${String(counts.secondaries_paused)} paused`}
        />
        <Card label="Links open" value={counts?.links_connected} testId="count-links" />
        <Card
          label="Backlog"
          value={counts?.outbox_messages}
          testId="count-backlog"
          note={counts === undefined ? undefined : formatBytes(counts.outbox_bytes)}
        />
      </section>
      <section class="charts" aria-label="Charts">
        <div class="panel">
          <h2>Frames per second</h2>
          <Sparkline values={status.rates.total} capacity={HISTORY_LENGTH} label="Frames per second, all legs, last two minutes" testId="frames-sparkline" />
          <p class="legend" data-testid="frame-rates">
            charger {formatRate(status.rates.latest.charger)} · primary {formatRate(status.rates.latest.primary)} · secondaries{' '}
            {formatRate(status.rates.latest.secondary)}
          </p>
        </div>
        <div class="panel">
          <h2>Handshakes</h2>
          <Bars entries={handshakeEntries(status.data)} label="Handshake outcomes since start" testId="handshake-bars" />
        </div>
      </section>
      <section class="panel" aria-labelledby="chargers-heading">
        <h2 id="chargers-heading">Chargers</h2>
        <ChargersTable chargers={chargers.data} error={chargers.error} now={now} />
      </section>
      <section class="panel" aria-labelledby="secondaries-heading">
        <h2 id="secondaries-heading">Secondaries</h2>
        <SecondariesTable feed={secondaries} chargers={counts?.chargers} />
      </section>
    </>
  );
}

function Card({ label, value, note, testId }: { label: string; value: number | undefined; note?: string | undefined; testId: string }) {
  return (
    <div class="card">
      <div class="card-label">{label}</div>
      <div class="card-value" data-testid={testId}>
        {value ?? '…'}
      </div>
      {note === undefined ? null : <div class="card-note">{note}</div>}
    </div>
  );
}

function handshakeEntries(status: Status | undefined): Array<[string, number]> {
  if (status === undefined) return [];
  return Object.entries(status.handshakes).sort(([a], [b]) => a.localeCompare(b));
}

function ChargersTable({ chargers, error, now }: { chargers: Charger[] | undefined; error: Error | undefined; now: number }) {
  if (chargers === undefined) return <Loading error={error} />;
  if (chargers.length === 0) return <p class="muted">No charger connected.</p>;
  return (
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">Charger</th>
            <th scope="col">Protocol</th>
            <th scope="col">Address</th>
            <th scope="col">Connected</th>
            <th scope="col">Last frame</th>
            <th scope="col">Primary</th>
            <th scope="col">Secondaries</th>
          </tr>
        </thead>
        <tbody>
          {chargers.map((charger) => (
            <tr key={charger.id} data-testid={`charger-row-${charger.id}`}>
              <th scope="row">
                <a href={href.charger(charger.id)}>{charger.id}</a>
              </th>
              <td>{charger.protocol}</td>
              <td class="mono">{charger.remote_address ?? '—'}</td>
              <td title={charger.connected_at}>{formatSince(charger.connected_at, now)}</td>
              <td title={charger.last_frame_at ?? undefined}>{formatSince(charger.last_frame_at, now)}</td>
              <td>
                <Badge state={charger.primary.state} />
              </td>
              <td>
                <span class="badges">
                  {charger.secondaries.map((link) => (
                    <Badge key={link.name} state={link.state} title={`${link.name}: ${link.state}`} testId={`link-state-${charger.id}-${link.name}`} />
                  ))}
                </span>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function SecondariesTable({ feed, chargers }: { feed: SecondariesFeed; chargers: number | undefined }) {
  const secondaries = feed.data;
  if (secondaries === undefined) return <Loading error={feed.error} />;
  if (secondaries.length === 0) return <p class="muted">No secondary configured.</p>;
  return (
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">Secondary</th>
            <th scope="col">Health</th>
            <th scope="col">Links</th>
            <th scope="col">Backlog</th>
            <th scope="col">Oldest</th>
            <th scope="col">
              <span class="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {secondaries.map((secondary) => (
            <tr key={secondary.name} data-testid={`secondary-row-${secondary.name}`}>
              <th scope="row">
                <a href={href.secondary(secondary.name)}>{secondary.name}</a>
              </th>
              <td>
                <Badge state={secondaryHealth(secondary, chargers)} testId={`secondary-state-${secondary.name}`} />
              </td>
              <td>{secondary.links_connected}</td>
              <td>
                {secondary.outbox_messages} · {formatBytes(secondary.outbox_bytes)}
              </td>
              <td>{secondary.oldest_age_s === null ? '—' : formatDuration(secondary.oldest_age_s)}</td>
              <td>
                <PauseButton name={secondary.name} paused={secondary.paused} onDone={feed.refresh} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
