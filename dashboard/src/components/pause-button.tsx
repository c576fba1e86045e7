/** Pauses or resumes mirroring to one secondary (its messages keep queueing while paused). */
import { api } from '../api.js';
import { AsyncButton } from './async-button.js';

export function PauseButton({ name, paused, onDone }: { readonly name: string; readonly paused: boolean; readonly onDone: () => void }) {
  return (
    <AsyncButton
      action={async () => {
        await api.pauseSecondary(name, !paused);
        onDone();
      }}
      testId={`${paused ? 'resume' : 'pause'}-secondary-${name}`}
      label={`${paused ? 'Resume' : 'Pause'} ${name}`}
    >
      {paused ? 'Resume' : 'Pause'}
    </AsyncButton>
  );
}
