/** A state shown as a coloured word (the word carries the meaning; the colour only repeats it). */

export function Badge({ state, testId, title }: { readonly state: string; readonly testId?: string; readonly title?: string }) {
  return (
    <span class={`badge badge-${state}`} data-testid={testId} title={title}>
      {state}
    </span>
  );
}
