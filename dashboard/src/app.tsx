/** The dashboard: header, token form when asked for, and the page of the current hash route. */
import { useEffect, useState } from 'preact/hooks';
import { isTokenRequired, onAuthChange } from './auth.js';
import { TokenForm } from './components/token-form.js';
import { formatDuration } from './format.js';
import { useSecondariesFeed, useStatusFeed } from './live-data.js';
import { ChargerPage } from './pages/charger.js';
import { Overview } from './pages/overview.js';
import { SecondaryPage } from './pages/secondary.js';
import { useRoute } from './router.js';
import { href, type Route } from './routes.js';

export function App() {
  const route = useRoute();
  const tokenRequired = useTokenRequired();
  const status = useStatusFeed();
  const secondaries = useSecondariesFeed();
  useEffect(() => {
    document.title = `${titleOf(route)} · ocpp-splitter`;
  }, [route]);
  return (
    <>
      <header class="top">
        <a class="brand" href={href.overview()}>
          ocpp-splitter
        </a>
        {status.data === undefined ? null : (
          <span class="muted" data-testid="version">
            v{status.data.version} · up {formatDuration(status.data.uptime_s)}
            {status.data.store === null ? '' : ` · store ${status.data.store.engine}`}
          </span>
        )}
      </header>
      <main>
        {tokenRequired ? <TokenForm /> : null}
        {route.page === 'overview' ? <Overview status={status} secondaries={secondaries} /> : null}
        {route.page === 'charger' ? <ChargerPage key={route.id} id={route.id} /> : null}
        {route.page === 'secondary' ? <SecondaryPage name={route.name} feed={secondaries} chargers={status.data?.counts.chargers} /> : null}
        {route.page === 'not-found' ? (
          <p class="notice" role="status">
            Nothing at {route.hash}. <a href={href.overview()}>Back to the overview</a>.
          </p>
        ) : null}
      </main>
    </>
  );
}

function useTokenRequired(): boolean {
  const [required, setRequired] = useState(isTokenRequired);
  useEffect(() => onAuthChange(() => setRequired(isTokenRequired())), []);
  return required;
}

function titleOf(route: Route): string {
  switch (route.page) {
    case 'overview':
      return 'Overview';
    case 'charger':
      return route.id;
    case 'secondary':
      return route.name;
    case 'not-found':
      return 'Not found';
  }
}
