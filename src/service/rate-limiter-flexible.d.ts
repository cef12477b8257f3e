/** The one limiter class keyward imports by its file, so `import "keyward"` loads no other (no Redis, cluster or SQL module). */
declare module "rate-limiter-flexible/lib/RateLimiterMemory.js" {
  import { RateLimiterMemory } from "rate-limiter-flexible";
  export default RateLimiterMemory;
}
