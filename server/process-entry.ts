// The hub process as `npm start` runs it (dist/switchboard.mjs): asks Node (22.1 and later) to keep
// V8's compiled code between runs — compiling the bundle is most of the start-up — then loads the hub.
import module from "node:module";

(module as { enableCompileCache?: () => unknown }).enableCompileCache?.();
await import("./main.ts");
// Written now, not only at exit: a hub that is killed still starts faster the next time.
(module as { flushCompileCache?: () => void }).flushCompileCache?.();
