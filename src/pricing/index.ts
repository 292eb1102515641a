export { findPrice, type PriceOverrides, priceCall } from './price-call.js';
export { type ModelPrice, PRICE_TABLE, type Vendor } from './price-table.js';
