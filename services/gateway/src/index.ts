export { gatewayService } from './definition.ts';
export { mergeOpenApi, type OpenApiDocument } from './openapi/openapi.ts';
