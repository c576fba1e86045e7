/** Asks for the admin token after a 401; kept for this tab only (sessionStorage). */
import { useState } from 'preact/hooks';
import { setToken } from '../auth.js';

export function TokenForm() {
  const [value, setValue] = useState('');
  return (
    <form
      class="token-form"
      data-testid="token-form"
      onSubmit={(event) => {
        event.preventDefault();
        if (value.trim() !== '') setToken(value.trim());
      }}
    >
      <p>This admin listener needs a token.</p>
      <label>
        Admin token{' '}
        <input type="password" autocomplete="current-password" value={value} onInput={(event) => setValue(event.currentTarget.value)} required />
      </label>{' '}
      <button type="submit">Sign in</button>
    </form>
  );
}
