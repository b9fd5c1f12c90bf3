export { gatewayService } from './definition.ts';
export { mergeOpenApi, type OpenApiDocument, type UpstreamDocument } from './openapi/openapi.ts';
export { ROUTES } from './upstreams/route-table.ts';
