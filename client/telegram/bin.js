// `npm run telegram`: runs the telegram channel's bundle, dist/telegram.mjs, built (or rebuilt) from the sources when they are newer.
import { launch } from "../launch.js";

await launch("telegram");
