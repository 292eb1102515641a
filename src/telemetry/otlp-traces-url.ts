// Where spans go, as the OpenTelemetry environment names it: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, else
// OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces. A module of its own, importing nothing of OpenTelemetry:
// `run` asks it before loading the SDK, which a run that traces nothing never loads.
export function otlpTracesUrl(env: Readonly<Record<string, string | undefined>>): string | undefined {
  const url =
    env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ??
    (env.OTEL_EXPORTER_OTLP_ENDPOINT ? `${env.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces` : undefined);
  return url === '' ? undefined : url;
}
