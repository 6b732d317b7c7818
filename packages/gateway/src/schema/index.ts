export * from './openai.js';
export * from './request.js';
export * from './response.js';
export * from './http.js';
export * from './stream.js';
export * from './errors.js';
export * from './context.js';
export * from './cancel.js';
