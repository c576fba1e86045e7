/**
 * The Prometheus metric names the admin listener exports (besides prom-client's default process metrics).
 * One list, so the alert rules and the Grafana dashboard in deploy/ are checked against it by a test.
 */
export const METRIC_NAMES = [
  'ocpp_splitter_chargers_connected',
  'ocpp_splitter_handshakes_total',
  'ocpp_splitter_frames_total',
  'ocpp_splitter_primary_call_duration_seconds',
  'ocpp_splitter_secondary_links_connected',
  'ocpp_splitter_secondary_paused',
  'ocpp_splitter_outbox_messages',
  'ocpp_splitter_outbox_bytes',
  'ocpp_splitter_outbox_oldest_age_seconds',
  'ocpp_splitter_mirror_delivered_total',
  'ocpp_splitter_mirror_dropped_total',
  'ocpp_splitter_mirror_skipped_total',
  'ocpp_splitter_secondary_commands_total',
  'ocpp_splitter_store_commit_seconds',
  'ocpp_splitter_store_errors_total',
  'ocpp_splitter_charger_frames_total',
] as const;

export type MetricName = (typeof METRIC_NAMES)[number];
