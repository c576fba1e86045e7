/**
 * The demo's live trace: one line per frame per leg, as each demo peer saw it, plus step headings and the
 * proxy's own log lines in summary. Colour only when the output is a terminal (and NO_COLOR is unset).
 */
import { MessageType, parseFrame, type Frame } from '../ocpp/frame.js';

/** Who is talking on a leg. The proxy itself never prints frames: the peers on both ends of a leg do. */
export type Party = 'charger' | 'proxy' | 'primary' | 'secondary';

/** One frame as a demo peer sent or received it. */
export interface WireRecord {
  readonly from: Party;
  readonly to: Party;
  /** Charge point identity of the connection the frame crossed. */
  readonly identity: string;
  readonly text: string;
  /** Undefined when the text is not a valid OCPP-J frame. */
  readonly frame: Frame | undefined;
  /** For a CALLRESULT or CALLERROR: the action of the CALL it answers, when the peer knows it. */
  readonly answers?: string;
}

export interface TraceOptions {
  /** Receives each finished line, without a trailing newline. */
  readonly write: (line: string) => void;
  readonly color: boolean;
  /** Payloads longer than this are cut with "…"; 0 shows them whole. */
  readonly maxPayloadLength?: number;
  /** Lines for connections with this identity omit it; any other charger's lines name it. */
  readonly mainIdentity?: string;
}

const ANSI = {
  reset: '\u001b[0m',
  bold: '\u001b[1m',
  dim: '\u001b[2m',
  red: '\u001b[31m',
  green: '\u001b[32m',
  yellow: '\u001b[33m',
  blue: '\u001b[34m',
  magenta: '\u001b[35m',
  cyan: '\u001b[36m',
} as const;

type Style = keyof typeof ANSI;

const PARTY_STYLE: Readonly<Record<Party, Style>> = {
  charger: 'cyan',
  proxy: 'dim',
  primary: 'green',
  secondary: 'magenta',
};

const PARTY_WIDTH = 9;
/**
 * Longest a secondary's copy of a charger CALL waits in the trace for the primary's leg (the CALL reaching
 * the primary and its answer reaching the charger): a primary that does not answer must not hide it.
 */
const PRIMARY_LEG_WAIT_MS = 2_000;
const DEFAULT_MAX_PAYLOAD_LENGTH = 150;
const RULE_WIDTH = 78;

/** Whether to colour `stream`: a TTY, unless NO_COLOR is set; FORCE_COLOR (not "0") forces it. */
export function shouldColor(stream: { isTTY?: boolean }, env: Record<string, string | undefined>): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== '') return force !== '0' && force !== 'false';
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return stream.isTTY === true;
}

export class Trace {
  readonly #write: (line: string) => void;
  readonly #color: boolean;
  readonly #maxPayloadLength: number;
  readonly #mainIdentity: string | undefined;
  /** Charger CALLs whose primary leg is not finished, by connection and message id, with the secondary lines held back. */
  readonly #primaryLegOpen = new Map<string, { readonly held: string[]; readonly timer: NodeJS.Timeout }>();

  constructor(options: TraceOptions) {
    this.#write = options.write;
    this.#color = options.color;
    this.#maxPayloadLength = options.maxPayloadLength ?? DEFAULT_MAX_PAYLOAD_LENGTH;
    this.#mainIdentity = options.mainIdentity;
  }

  paint(style: Style, text: string): string {
    return this.#color ? `${ANSI[style]}${text}${ANSI.reset}` : text;
  }

  line(text = ''): void {
    this.#write(text);
  }

  /** A numbered step: a rule with its title, then what is about to happen. */
  step(number: number, title: string, explanation: string): void {
    const head = `── ${number}. ${title} `;
    this.#write('');
    this.#write(this.paint('bold', head.padEnd(RULE_WIDTH, '─')));
    for (const text of explanation.split('\n')) this.#write(this.paint('dim', `   ${text}`));
  }

  /**
   * A frame crossing one leg, as seen by the peer on one end of it. The primary's leg of a charger CALL is
   * printed first: the proxy forwards it before it stores the secondary's copy, but the copy often arrives
   * sooner (the local secondary answers at once), and the trace would read as if the secondary were served
   * first. So the secondary's lines for that message id wait until the primary's answer reached the charger.
   */
  frame(record: WireRecord): void {
    const printer: Party = record.from === 'proxy' ? record.to : record.from;
    const legText = `${record.from.padEnd(PARTY_WIDTH)} → ${record.to.padEnd(PARTY_WIDTH)}`;
    const who = record.identity === this.#mainIdentity || this.#mainIdentity === undefined ? '' : `[${record.identity}] `;
    const line = `  ${this.paint(PARTY_STYLE[printer], legText)}  ${who}${this.#describe(record)}`;
    const frame = record.frame;
    if (frame === undefined) {
      this.#write(line);
      return;
    }
    const key = `${record.identity}\u0000${frame.id}`;
    const open = this.#primaryLegOpen.get(key);
    if (record.from === 'charger' && frame.type === MessageType.Call) {
      this.#write(line);
      if (open === undefined) {
        const timer = setTimeout(() => this.#primaryLegDone(key), PRIMARY_LEG_WAIT_MS).unref();
        this.#primaryLegOpen.set(key, { held: [], timer });
      }
      return;
    }
    if (open !== undefined && (record.from === 'secondary' || record.to === 'secondary')) {
      open.held.push(line);
      return;
    }
    this.#write(line);
    if (open !== undefined && record.to === 'charger' && frame.type !== MessageType.Call) this.#primaryLegDone(key);
  }

  /** Prints whatever is still held back and stops waiting (the demo is closing). Idempotent. */
  flush(): void {
    for (const key of [...this.#primaryLegOpen.keys()]) this.#primaryLegDone(key);
  }

  #primaryLegDone(key: string): void {
    const open = this.#primaryLegOpen.get(key);
    if (open === undefined) return;
    this.#primaryLegOpen.delete(key);
    clearTimeout(open.timer);
    for (const line of open.held) this.#write(line);
  }

  /** One of the proxy's own log lines, summarised: its message and its simple fields. */
  proxyLog(line: Record<string, unknown>): void {
    const { msg, level, tag } = line;
    const fields = Object.entries(line)
      .filter(([key]) => !['time', 'level', 'tag', 'msg'].includes(key))
      .map(([key, value]) => `${key}=${summariseValue(value)}`)
      .join(' ');
    const where = typeof tag === 'string' && tag !== 'proxy' && tag !== this.#mainIdentity ? `[${tag}] ` : '';
    const label = `${'proxy'.padEnd(PARTY_WIDTH)} · ${'log'.padEnd(PARTY_WIDTH)}`;
    const text = `  ${label}  ${where}${String(msg)}${fields === '' ? '' : `  ${fields}`}`;
    const style: Style = level === 'error' || level === 'fatal' ? 'red' : level === 'warn' ? 'yellow' : 'dim';
    this.#write(this.paint(style, text));
  }

  /** A check of what the step should have shown, ✓ or ✗. */
  check(ok: boolean, text: string): void {
    this.#write(ok ? `   ${this.paint('green', '✓')} ${text}` : `   ${this.paint('red', '✗')} ${text}`);
  }

  note(text: string): void {
    this.#write(this.paint('dim', `   ${text}`));
  }

  #describe(record: WireRecord): string {
    const frame = record.frame;
    if (frame === undefined) return `${this.paint('red', 'not OCPP-J:')} ${this.#cut(record.text)}`;
    switch (frame.type) {
      case MessageType.Call:
      case MessageType.Send:
        return `${this.paint('bold', `${frame.action}.req`)}  ${this.paint('dim', `(${frame.id})`)}  ${this.#payload(frame.payload)}`;
      case MessageType.CallResult:
        return `${this.paint('bold', `${record.answers ?? 'CALLRESULT'}.conf`)}  ${this.paint('dim', `(${frame.id})`)}  ${this.#payload(frame.payload)}`;
      case MessageType.CallError:
      case MessageType.CallResultError:
        return `${this.paint('yellow', `CALLERROR ${frame.errorCode}`)}${record.answers === undefined ? '' : ` to ${record.answers}`}  ${this.paint('dim', `(${frame.id})`)}  ${this.#cut(JSON.stringify(frame.errorDescription))}`;
    }
  }

  #payload(payload: Record<string, unknown>): string {
    return this.#cut(JSON.stringify(payload));
  }

  #cut(text: string): string {
    const max = this.#maxPayloadLength;
    return max > 0 && text.length > max ? `${text.slice(0, max - 1)}…` : text;
  }
}

function summariseValue(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((item) => summariseValue(item)).join(',')}]`;
  if (typeof value === 'object' && value !== null) return '{…}';
  return String(value);
}

/** Parses a frame for the trace; undefined when it is not valid OCPP-J. */
export function frameOf(text: string): Frame | undefined {
  const result = parseFrame(text);
  return result.ok ? result.frame : undefined;
}
