// Sends two log records with the OpenTelemetry JS SDK's own OTLP/HTTP log exporter, JSON or protobuf as PROTOCOL
// says, to ENDPOINT with API_KEY: run by tests/backend/test_otlp.py against the backend.
import { SeverityNumber } from '@opentelemetry/api-logs';
import { OTLPLogExporter as JsonExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as ProtobufExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';

const protocol = process.env.PROTOCOL;
const Exporter = protocol === 'protobuf' ? ProtobufExporter : JsonExporter;
const exporter = new Exporter({ url: process.env.ENDPOINT, headers: { 'x-api-key': process.env.API_KEY } });
const provider = new LoggerProvider({
  resource: resourceFromAttributes({ 'service.name': 'node-shop', 'service.version': '3.2.1' }),
  processors: [new SimpleLogRecordProcessor({ exporter })],
});
const logger = provider.getLogger('shop.cart');
logger.emit({
  severityNumber: SeverityNumber.ERROR,
  severityText: 'ERROR',
  body: `checkout failed over ${protocol}`,
  attributes: { 'user.id': 'u-7', 'exception.type': 'TypeError', 'http.response.status_code': 500 },
});
logger.emit({ severityNumber: SeverityNumber.INFO, body: { message: `structured body over ${protocol}`, 'order.id': 'o-9' } });
await provider.forceFlush();
await provider.shutdown();
