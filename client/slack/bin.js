// `npm run slack`: runs the slack channel's bundle, dist/slack.mjs, built (or rebuilt) from the sources when they are newer.
import { launch } from "../launch.js";

await launch("slack");
