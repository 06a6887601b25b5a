// Imported first by the hub's entry (server/main.ts), before any module builds a schema: zod then
// checks without generating code. zod decides this when it builds an object schema; a generated
// checker (one `new Function` each, made on the schema's first parse) is a little faster per parse
// (about 1 µs for a task update) but is compiled again at every start, where V8's code cache cannot
// keep it (server/code-cache.ts).
import * as z from "zod";

z.config({ jitless: true });
