/** #/chargers/<id> — one charger's details, its links, and the live frame inspector. */
import { useCallback, useState } from 'preact/hooks';
import { ApiError, api } from '../api.js';
import { AsyncButton } from '../components/async-button.js';
import { Badge } from '../components/badge.js';
import { Loading } from '../components/loading.js';
import { formatBytes, formatDuration, formatSince } from '../format.js';
import { useNow, usePoll } from '../hooks.js';
import { href } from '../routes.js';
import type { ChargerDetail, SessionEvent } from '../types.js';
import { FrameInspector } from './frame-inspector.js';

export function ChargerPage({ id }: { readonly id: string }) {
  const detail = usePoll((signal) => api.charger(id, signal), [id]);
  const [ended, setEnded] = useState(false);
  const refresh = detail.refresh;
  const onSession = useCallback(
    (event: SessionEvent) => {
      setEnded(event.type === 'ended');
      refresh();
    },
    [refresh],
  );
  const away = detail.error instanceof ApiError && detail.error.status === 404;
  const charger = away ? undefined : detail.data;
  return (
    <>
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href={href.overview()}>Overview</a> / <span aria-current="page">{id}</span>
      </nav>
      <h1 class="page-title">
        Charger <span class="mono">{id}</span>
      </h1>
      {ended || away ? (
        <p class="notice" role="status" data-testid="charger-away">
          {id} is not connected{ended ? ' (its session ended)' : ''}. Frames appear here when it returns.
        </p>
      ) : null}
      {charger === undefined ? away ? null : <Loading error={detail.error} /> : <ChargerDetails charger={charger} onDisconnected={refresh} />}
      <FrameInspector chargerId={id} secondaries={charger?.secondaries.map((link) => link.name) ?? []} onSession={onSession} onLink={refresh} />
    </>
  );
}

function ChargerDetails({ charger, onDisconnected }: { charger: ChargerDetail; onDisconnected: () => void }) {
  const now = useNow();
  return (
    <section class="panel" aria-labelledby="details-heading">
      <div class="panel-head">
        <h2 id="details-heading">Session</h2>
        <DisconnectButton id={charger.id} onDone={onDisconnected} />
      </div>
      <dl class="facts">
        <dt>Protocol</dt>
        <dd data-testid="charger-protocol">{charger.protocol}</dd>
        <dt>Address</dt>
        <dd class="mono">{charger.remote_address ?? '—'}</dd>
        <dt>Connected</dt>
        <dd title={charger.connected_at}>{formatSince(charger.connected_at, now)}</dd>
        <dt>Last frame</dt>
        <dd title={charger.last_frame_at ?? undefined}>{formatSince(charger.last_frame_at, now)}</dd>
        <dt>Primary</dt>
        <dd>
          <Badge state={charger.primary.state} />
        </dd>
      </dl>
      {charger.secondaries.length === 0 ? null : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Secondary</th>
                <th scope="col">Link</th>
                <th scope="col">Backlog</th>
                <th scope="col">Oldest</th>
              </tr>
            </thead>
            <tbody>
              {charger.secondaries.map((link) => (
                <tr key={link.name}>
                  <th scope="row">
                    <a href={href.secondary(link.name)}>{link.name}</a>
                  </th>
                  <td>
                    <Badge state={link.state} testId={`link-state-${charger.id}-${link.name}`} />
                  </td>
                  <td>
                    {link.outbox_messages} · {formatBytes(link.outbox_bytes)}
                  </td>
                  <td>{link.oldest_age_s === null ? '—' : formatDuration(link.oldest_age_s)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

/** Closes the charger's connection (it reconnects by itself); asks first, in the page rather than a dialog. */
function DisconnectButton({ id, onDone }: { id: string; onDone: () => void }) {
  const [confirming, setConfirming] = useState(false);
  if (!confirming) {
    return (
      <button type="button" class="danger" data-testid="disconnect" onClick={() => setConfirming(true)}>
        Disconnect…
      </button>
    );
  }
  return (
    <span class="confirm" role="group" aria-label="Confirm disconnect">
      Disconnect {id}?{' '}
      <AsyncButton
        class="danger"
        testId="disconnect-confirm"
        action={async () => {
          await api.disconnect(id);
          setConfirming(false);
          onDone();
        }}
      >
        Disconnect
      </AsyncButton>{' '}
      <button type="button" onClick={() => setConfirming(false)}>
        Cancel
      </button>
    </span>
  );
}
