/** "Loading…" until the first answer, or the error that prevented it. */

export function Loading({ error }: { readonly error: Error | undefined }) {
  return error === undefined ? (
    <p class="muted">Loading…</p>
  ) : (
    <p class="error-text" role="alert">
      {error.message}
    </p>
  );
}
