import { aiService } from '@datalab/ai-service';
import { gatewayService } from '@datalab/api-gateway';
import { computeService } from '@datalab/compute-service';
import { dataService } from '@datalab/data-service';
import type { ConfigSchema, ServiceDefinition } from '@datalab/platform';
import { vizService } from '@datalab/viz-service';

/** Every deployable service, the gateway first. */
export const allServices: readonly ServiceDefinition<ConfigSchema>[] = [
  gatewayService,
  dataService,
  aiService,
  computeService,
  vizService,
];

export function findService(name: string): ServiceDefinition<ConfigSchema> | undefined {
  return allServices.find((service) => service.name === name);
}
