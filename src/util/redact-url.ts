/**
 * Removes the secrets a URL can carry — `user:password@` userinfo, the `?query`
 * (CSMSs often take tokens there) and the `#fragment` — so the URL can be logged
 * or shown in an error message.
 *
 * Works on any string, valid URL or not: a malformed URL is exactly the kind of
 * value that ends up in an error message, so the fallback is deliberately more
 * aggressive (it may remove too much, never too little).
 * The rest of the string is kept as written (no WHATWG normalisation) so the
 * reader recognises their own value.
 */
export function redactUrl(value: string): string {
  const parses = URL.canParse(value);
  let out = value;

  if (!parses) {
    // An unencoded '#', '?' or '/' in a password makes the URL invalid, and then
    // cutting at '?'/'#' first would leave half the password behind. Take
    // everything between '//' and the LAST '@' as userinfo instead.
    const slashes = out.indexOf('//');
    const lastAt = out.lastIndexOf('@');
    if (slashes !== -1 && lastAt > slashes) {
      out = out.slice(0, slashes + 2) + out.slice(lastAt + 1);
    }
  }

  const queryOrFragment = out.search(/[?#]/);
  if (queryOrFragment !== -1) out = out.slice(0, queryOrFragment);

  if (parses) {
    // WHATWG URL: the authority ends at the first '/' or '\' (special schemes
    // treat both alike) and the userinfo ends at the last '@' inside it.
    const slashes = out.indexOf('//');
    if (slashes !== -1) {
      const authorityStart = slashes + 2;
      const authorityLength = out.slice(authorityStart).search(/[/\\]/);
      const authority =
        authorityLength === -1 ? out.slice(authorityStart) : out.slice(authorityStart, authorityStart + authorityLength);
      const at = authority.lastIndexOf('@');
      if (at !== -1) out = out.slice(0, authorityStart) + out.slice(authorityStart + at + 1);
    }
  }
  return out;
}
