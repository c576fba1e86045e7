import { describe, it, expect } from 'vitest';
import { ConfigError, ErrorCode } from '../../src/errors.js';
import { helpText, parseCliArgs } from '../../src/config/cli-args.js';

function usageError(argv: string[]): ConfigError {
  try {
    parseCliArgs(argv);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(argv)} to be refused`);
}

describe('parseCliArgs', () => {
  it('returns run with no flags for an empty argv', () => {
    expect(parseCliArgs([])).toEqual({ kind: 'run', flags: {} });
  });

  it.each([[['-h']], [['--help']], [['--port', '1', '--help']], [['--help', '--version']]])('%j asks for help', (argv) => {
    expect(parseCliArgs(argv)).toEqual({ kind: 'help' });
  });

  it.each([[['-v']], [['--version']]])('%j asks for the version', (argv) => {
    expect(parseCliArgs(argv)).toEqual({ kind: 'version' });
  });

  it('reads every flag, long and short', () => {
    expect(
      parseCliArgs([
        '-c', '/etc/splitter.yaml',
        '-p', '9100',
        '--host', '127.0.0.1',
        '--primary', 'wss://p.example.com',
        '--secondary', 'wss://a.example.com',
        '--secondary=wss://b.example.com',
        '--log-level', 'debug',
        '--data-dir', '/var/lib/splitter',
      ]),
    ).toEqual({
      kind: 'run',
      flags: {
        config: '/etc/splitter.yaml',
        port: '9100',
        host: '127.0.0.1',
        primary: 'wss://p.example.com',
        secondary: ['wss://a.example.com', 'wss://b.example.com'],
        logLevel: 'debug',
        dataDir: '/var/lib/splitter',
      },
    });
  });

  it('reads --log-format and --strict', () => {
    expect(parseCliArgs(['--log-format', 'pretty', '--strict'])).toEqual({ kind: 'run', flags: { logFormat: 'pretty', strict: true } });
  });

  it.each([
    [['--log_format', 'pretty'], "unknown option '--log_format' (did you mean '--log-format'?); see --help"],
    [['--strcit'], "unknown option '--strcit' (did you mean '--strict'?); see --help"],
    [['--strict=yes'], "option '--strict' does not take a value; see --help"],
  ])('refuses %j, suggesting the flag meant', (argv, message) => {
    expect(usageError(argv).message).toBe(message);
  });

  it('accepts --config=FILE and -pN forms', () => {
    expect(parseCliArgs(['--config=x.json', '-p9001'])).toEqual({ kind: 'run', flags: { config: 'x.json', port: '9001' } });
  });

  it('passes values through unvalidated (the schema validates them with the other layers)', () => {
    expect(parseCliArgs(['--port', 'abc', '--log-level', 'LOUD'])).toEqual({
      kind: 'run',
      flags: { port: 'abc', logLevel: 'LOUD' },
    });
  });

  it.each([
    [['--prot', '9000'], "unknown option '--prot' (did you mean '--port'?); see --help"],
    [['--primary-url', 'x'], "unknown option '--primary-url'; see --help"],
    [['-x'], "unknown option '-x'; see --help"],
    [['--port'], "option '--port' needs a value; see --help"],
    [['-p'], "option '-p' needs a value; see --help"],
    [['--secondary'], "option '--secondary' needs a value; see --help"],
    [
      ['--port', '--help'],
      "option '--port' needs a value (got '--help'; write --port=VALUE for a value starting with '-'); see --help",
    ],
    [['--help=yes'], "option '--help' does not take a value; see --help"],
    [['serve'], "unexpected argument 'serve'; see --help"],
    [['--', '--port'], "unexpected argument '--port'; see --help"],
  ])('refuses %j with a one-line usage error', (argv, message) => {
    const error = usageError(argv);
    expect(error.code).toBe(ErrorCode.CliUsage);
    expect(error.message).toBe(message);
  });
});

describe('parseCliArgs: hash-password', () => {
  it('is a command of its own, taking no arguments: the password comes on standard input, never argv', () => {
    expect(parseCliArgs(['hash-password'])).toEqual({ kind: 'hash-password' });
    const error = usageError(['hash-password', 'secret']);
    expect(error.code).toBe(ErrorCode.CliUsage);
    expect(error.message).toBe('hash-password takes no arguments: it reads the password from standard input; see --help');
    expect(usageError(['--port', '1', 'hash-password']).message).toContain("unexpected argument 'hash-password'");
  });

  it('is in --help', () => {
    expect(helpText('1.2.3')).toContain('ocpp-splitter hash-password');
  });
});

describe('helpText', () => {
  const text = helpText('1.2.3');

  it('shows the version and usage', () => {
    expect(text).toContain('ocpp-splitter 1.2.3');
    expect(text).toContain('Usage: ocpp-splitter [options]');
  });

  it('lists every flag', () => {
    for (const flag of ['-h, --help', '-v, --version', '-c, --config FILE', '-p, --port N', '--host ADDR', '--primary URL', '--secondary URL', '--log-level LEVEL', '--log-format FMT', '--data-dir DIR', '--strict']) {
      expect(text).toContain(flag);
    }
  });

  it('lists every env var', () => {
    for (const name of ['CONFIG_FILE', 'PORT', 'PRIMARY_CSMS_URL', 'SECONDARY_CSMS_URLS', 'LOG_LEVEL', 'LOG_FORMAT', 'LOG_MAX_MESSAGE_LENGTH', 'DATA_DIR', 'STRICT_CONFIG']) {
      expect(text).toMatch(new RegExp(`^  ${name} `, 'm'));
    }
  });

  it('shows the defaults from the schema', () => {
    for (const fallback of ['/data/options.json', 'default: 9000', 'default: info', 'default: ./data', '(default: 120)']) {
      expect(text).toContain(fallback);
    }
  });

  it('states the precedence', () => {
    expect(text).toContain('Precedence: flags > environment > config file > defaults');
  });

  it('fits an 80-column terminal', () => {
    for (const line of text.split('\n')) expect(line.length, line).toBeLessThanOrEqual(80);
  });
});
