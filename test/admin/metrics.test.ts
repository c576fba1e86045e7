/**
 * `GET /metrics`, scraped after real traffic through a real proxy: every metric of metric-names.ts is
 * exported, with the values the traffic implies.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { METRIC_NAMES } from '../../src/admin/metric-names.js';
import { answers16, closeAll, connectRawCharger, exchange, ocpp16, startAdmin, startProxy, startRawCsms, upgradeStatus } from '../support/harness.js';
import { metricSample } from '../support/admin.js';

afterEach(closeAll);

async function scrape(url: string): Promise<string> {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return response.text();
}

describe('GET /metrics', () => {
  it('exports every documented metric with the values real traffic gives it', async () => {
    const primary = await startRawCsms({ answer: answers16(5) });
    const secondary = await startRawCsms({ answer: answers16(6) });
    const refusing = await startRawCsms({ refuseWith: { status: 401 } });
    const started = await startProxy(primary.url, { secondary_csms: [{ url: secondary.url, name: 'energy' }] });
    const admin = await startAdmin(started);
    const charger = await connectRawCharger(started.url('/CP-M1'));
    await exchange(charger, ocpp16.boot('b1'));
    await exchange(charger, ocpp16.heartbeat('h1'));
    await exchange(charger, ocpp16.heartbeat('h2'));
    // A charger with an invalid id, refused before the primary is dialled.
    expect((await upgradeStatus(started.url('/bad%00id'))).status).toBe(400);
    // A primary that refuses: the proxy refuses the charger with the primary's status.
    const refusedProxy = await startProxy(refusing.url);
    expect((await upgradeStatus(refusedProxy.url('/CP-R'))).status).toBe(401);

    const text = await (async () => {
      const deadline = performance.now() + 5_000;
      for (;;) {
        const body = await scrape(admin.url('/metrics'));
        if (metricSample(body, 'ocpp_splitter_mirror_delivered_total{secondary="energy"}') === 3) return body;
        if (performance.now() > deadline) throw new Error(`the secondary's answers were not counted:\n${body}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();

    for (const name of METRIC_NAMES) {
      if (name === 'ocpp_splitter_charger_frames_total') continue; // only with metrics_per_charger
      expect(text, name).toMatch(new RegExp(`^# TYPE ${name} `, 'm'));
    }
    expect(metricSample(text, 'ocpp_splitter_chargers_connected')).toBe(1);
    expect(metricSample(text, 'ocpp_splitter_handshakes_total{result="accepted"}')).toBe(1);
    expect(metricSample(text, 'ocpp_splitter_handshakes_total{result="invalid_id"}')).toBe(1);
    expect(metricSample(text, 'ocpp_splitter_handshakes_total{result="refused_by_primary"}')).toBe(1);
    expect(metricSample(text, 'ocpp_splitter_frames_total{source="charger",type="call"}')).toBe(3);
    expect(metricSample(text, 'ocpp_splitter_frames_total{source="primary",type="callresult"}')).toBe(3);
    expect(metricSample(text, 'ocpp_splitter_frames_total{source="secondary",type="callresult"}')).toBe(3);
    expect(metricSample(text, 'ocpp_splitter_frames_total{source="primary",type="call"}')).toBe(0);
    expect(metricSample(text, 'ocpp_splitter_primary_call_duration_seconds_count')).toBe(3);
    expect(metricSample(text, 'ocpp_splitter_primary_call_duration_seconds_bucket{le="+Inf"}')).toBe(3);
    expect(metricSample(text, 'ocpp_splitter_primary_call_duration_seconds_bucket{le="30"}')).toBe(3);
    expect(metricSample(text, 'ocpp_splitter_primary_call_duration_seconds_sum')).toBeGreaterThan(0);
    // Buckets are cumulative: never fewer observations under a higher bound.
    const buckets = [...text.matchAll(/^ocpp_splitter_primary_call_duration_seconds_bucket\{le="([^"]+)"\} (\d+)$/gm)].map((match) => Number(match[2]));
    expect(buckets.length).toBe(13);
    expect(buckets).toEqual([...buckets].sort((a, b) => a - b));
    expect(metricSample(text, 'ocpp_splitter_secondary_links_connected{secondary="energy"}')).toBe(1);
    expect(metricSample(text, 'ocpp_splitter_secondary_paused{secondary="energy"}')).toBe(0);
    expect(metricSample(text, 'ocpp_splitter_outbox_messages{secondary="energy"}')).toBe(0);
    expect(metricSample(text, 'ocpp_splitter_outbox_oldest_age_seconds{secondary="energy"}')).toBe(0);
    expect(metricSample(text, 'ocpp_splitter_mirror_skipped_total{secondary="energy"}')).toBe(0);
    expect(metricSample(text, 'ocpp_splitter_store_commit_seconds_count')).toBeGreaterThan(0);
    expect(metricSample(text, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    // No per-charger series by default.
    expect(text).not.toContain('CP-M1');
  });

  it('never lets a counter go down, across a same-id reconnect and a charger leaving', async () => {
    const primary = await startRawCsms({ answer: answers16(5) });
    const started = await startProxy(primary.url);
    const admin = await startAdmin(started);
    const series = 'ocpp_splitter_frames_total{source="charger",type="call"}';
    const first = await connectRawCharger(started.url('/CP-MONO'));
    await exchange(first, ocpp16.heartbeat('a'));
    await exchange(first, ocpp16.heartbeat('b'));
    const before = metricSample(await scrape(admin.url('/metrics')), series) ?? 0;
    expect(before).toBe(2);
    const second = await connectRawCharger(started.url('/CP-MONO')); // replaces the first, which is still closing
    expect(metricSample(await scrape(admin.url('/metrics')), series)).toBe(2);
    await first.closed;
    await exchange(second, ocpp16.heartbeat('c'));
    expect(metricSample(await scrape(admin.url('/metrics')), series)).toBe(3);
    second.socket.close();
    await second.closed;
    expect(metricSample(await scrape(admin.url('/metrics')), series)).toBe(3);
  });

  it('shows a paused secondary\'s backlog growing, and per-charger series only when asked', async () => {
    const primary = await startRawCsms({ answer: answers16(5) });
    const started = await startProxy(primary.url, { secondary_csms: [{ url: 'ws://127.0.0.1:9/unreachable', name: 'down' }], secondary_reconnect_delay_ms: 60_000 });
    const admin = await startAdmin(started, { metrics_per_charger: true });
    const charger = await connectRawCharger(started.url('/CP-M2'));
    await exchange(charger, ocpp16.boot('b1'));
    await exchange(charger, ocpp16.heartbeat('h1'));
    const deadline = performance.now() + 5_000;
    let text = '';
    while (metricSample(text, 'ocpp_splitter_outbox_messages{secondary="down"}') !== 2) {
      if (performance.now() > deadline) throw new Error(`backlog not shown:\n${text}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
      text = await scrape(admin.url('/metrics'));
    }
    expect(metricSample(text, 'ocpp_splitter_outbox_bytes{secondary="down"}')).toBe(ocpp16.boot('b1').text.length + ocpp16.heartbeat('h1').text.length);
    expect(metricSample(text, 'ocpp_splitter_secondary_links_connected{secondary="down"}')).toBe(0);
    expect(metricSample(text, 'ocpp_splitter_charger_frames_total{charger="CP-M2",source="charger"}')).toBe(2);
  });
});
