/** A button for a POST action: disabled while it runs, and the failure shown beside it. */
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';

export interface AsyncButtonProps {
  readonly action: () => Promise<unknown>;
  readonly children: ComponentChildren;
  readonly testId?: string;
  readonly label?: string;
  readonly class?: string;
}

export function AsyncButton({ action, children, testId, label, class: className }: AsyncButtonProps) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = async (): Promise<void> => {
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (caught) {
      setError(caught instanceof Error ? caught.message : String(caught));
    } finally {
      setBusy(false);
    }
  };
  return (
    <span class="async-button">
      <button type="button" class={className} disabled={busy} aria-label={label} data-testid={testId} onClick={() => void run()}>
        {children}
      </button>
      {error === null ? null : (
        <span class="error-text" role="alert">
          {error}
        </span>
      )}
    </span>
  );
}
