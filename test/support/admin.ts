/** Reading the admin listener's answers in tests: Prometheus samples and Server-Sent Events. */

/** The value of one sample, e.g. metricSample(text, 'ocpp_splitter_frames_total{source="charger",type="call"}'). */
export function metricSample(text: string, series: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    if (line.slice(0, space) === series) return Number(line.slice(space + 1));
  }
  return undefined;
}

export interface SseEvent {
  readonly event: string;
  readonly data: Record<string, unknown>;
}

/** Feeds chunks of an event stream in; returns the complete events each chunk finished (comments skipped). */
export function sseParser(): (chunk: string) => SseEvent[] {
  let buffer = '';
  return (chunk) => {
    buffer += chunk;
    const events: SseEvent[] = [];
    let end;
    while ((end = buffer.indexOf('\n\n')) !== -1) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: (.+)$/m.exec(block)?.[1];
      const data = /^data: (.+)$/m.exec(block)?.[1];
      if (event !== undefined && data !== undefined) events.push({ event, data: JSON.parse(data) as Record<string, unknown> });
    }
    return events;
  };
}
