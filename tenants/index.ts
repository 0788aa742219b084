export * from "./schema";
export * from "./validate";
export * from "./config-source";
export { cronProblem } from "./cron";
export { quantityValue, isQuantity } from "./quantity";
