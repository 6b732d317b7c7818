export { PriceTable, type Price, type TokenUsage } from './table.js';
export { defaultPrices } from './prices.js';
