// `npm run voice`: runs the voice channel's bundle, dist/voice.mjs, built (or rebuilt) from the sources when they are newer.
import { launch } from "../launch.js";

await launch("voice");
