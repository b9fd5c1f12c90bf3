export * from './problem.schemas.ts';
export * from './service.schemas.ts';
export * from './principal.schemas.ts';
