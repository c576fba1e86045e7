/**
 * The one rule for frame bodies that may carry credentials, used wherever a frame's text could be shown: the
 * debug log (describe-frame.ts) and the dashboard's inspector (admin/inspect-frame.ts). It looks at the whole
 * text as well as the action, so a frame whose head cannot be read (an invalid message id, say) is judged
 * by what it contains, not let through for lack of an action.
 */

/**
 * CALLs whose payload can carry credentials: 1.6 AuthorizationKey / 2.0.1 BasicAuthPassword
 * (ChangeConfiguration, SetVariables), network profiles with their passwords, certificates and their private
 * material, and the upload/download locations of firmware, diagnostics and logs, which in practice embed user
 * names, passwords and signed tokens.
 */
const SENSITIVE_ACTIONS: ReadonlySet<string> = new Set([
  'ChangeConfiguration',
  'SetVariables',
  'SetNetworkProfile',
  'CertificateSigned',
  'InstallCertificate',
  'UpdateFirmware',
  'SignedUpdateFirmware',
  'PublishFirmware',
  'GetDiagnostics',
  'GetLog',
]);

/**
 * Names that, found anywhere in a frame, withhold its body: the sensitive actions themselves (for a frame whose
 * head cannot be read) and the keys that hold secrets in answers and variables (1.6 AuthorizationKey, 2.0.1
 * BasicAuthPassword, network profile passwords, private keys). All ASCII: a Buffer is searched as latin1,
 * byte for byte, without decoding UTF-8.
 */
const CREDENTIAL_MARKERS =
  /AuthorizationKey|BasicAuthPassword|password|passwd|secret|apiKey|api_key|accessToken|access_token|privateKey|PRIVATE KEY|"ChangeConfiguration"|"SetVariables"|"SetNetworkProfile"|"CertificateSigned"|"InstallCertificate"|"UpdateFirmware"|"SignedUpdateFirmware"|"PublishFirmware"|"GetDiagnostics"|"GetLog"/i;

/**
 * Whether a frame's body must not be logged or shown: its action (when its head could be read) is a
 * sensitive one, or its text names a credential anywhere — whatever its message id or shape.
 */
export function mayCarryCredentials(data: Buffer | string, action: string | undefined): boolean {
  if (action !== undefined && SENSITIVE_ACTIONS.has(action)) return true;
  const text = typeof data === 'string' ? data : data.toString('latin1');
  if (CREDENTIAL_MARKERS.test(text) || hasUrlCredentials(text)) return true;
  // A name written with JSON escapes ("Authorization\u004bey") is the same name to whoever parses it.
  return JSON_ESCAPE.test(text) && CREDENTIAL_MARKERS.test(text.replace(JSON_ESCAPES, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16))));
}

/**
 * Whether a URL with a user and password in it (wss://CP-1:secret@csms.example/…) appears in the text, e.g. a
 * GetConfiguration value. Linear in the text: each `://` is looked at once, over the userinfo's few characters
 * (a pattern run over the whole text would backtrack from every position: seconds on a 4 MiB frame).
 */
function hasUrlCredentials(text: string): boolean {
  for (let at = text.indexOf('://'); at !== -1; at = text.indexOf('://', at + 3)) {
    let colon = false;
    const end = Math.min(text.length, at + 3 + MAX_USERINFO_LENGTH);
    for (let i = at + 3; i < end; i++) {
      const c = text.charCodeAt(i);
      if (c === AT) {
        if (colon) return true;
        break;
      }
      if (c === COLON) colon = true;
      else if (c === SLASH || c === QUOTE || c <= SPACE) break;
    }
  }
  return false;
}

/** Longer than any user name and password a CSMS URL carries; beyond it, what follows is not userinfo. */
const MAX_USERINFO_LENGTH = 512;
const AT = 0x40;
const COLON = 0x3a;
const SLASH = 0x2f;
const QUOTE = 0x22;
const SPACE = 0x20;
const JSON_ESCAPE = /\\u[0-9a-fA-F]{4}/;
const JSON_ESCAPES = /\\u([0-9a-fA-F]{4})/g;
