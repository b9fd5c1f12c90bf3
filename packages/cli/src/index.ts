export { allServices, findService } from './services.ts';
