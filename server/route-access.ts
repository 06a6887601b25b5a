// Which of the hub's routes are public on purpose. Every route needs the token unless the plugin
// that registers it marks it public here (the dashboard's static files, Slack's signed endpoints, and
// the approval server's /api/tool-approvals, checked by its run's own secret).
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { RouteAccess } from "../shared/access-policy.ts";

declare module "fastify" {
  interface FastifyContextConfig {
    access?: RouteAccess;
  }
}

/** Every route registered in `scope` (an encapsulated plugin) from now on is public. */
export function markRoutesPublic(scope: FastifyInstance): void {
  scope.addHook("onRoute", (route) => {
    route.config = { ...route.config, access: "public" };
  });
}

/** What the route the router matched needs; a request that matched nothing needs the token. */
export function routeAccess(request: FastifyRequest): RouteAccess {
  return request.routeOptions.config?.access === "public" ? "public" : "token";
}
