// The field builders every config.json section uses: a default, and a message that says what
// was wanted ("must be a positive integer"), which parseConfig puts after the key's path.
import * as z from "zod";

export const positiveInt = (fallback: number) =>
  z
    .number({ error: "must be a positive integer" })
    .int({ error: "must be a positive integer" })
    .positive({ error: "must be a positive integer" })
    .default(fallback);

export const port = (fallback: number) =>
  z
    .number({ error: "must be a port number from 0 to 65535" })
    .int({ error: "must be a port number from 0 to 65535" })
    .min(0, { error: "must be a port number from 0 to 65535" })
    .max(65535, { error: "must be a port number from 0 to 65535" })
    .default(fallback);
export const nonNegativeInt = (fallback: number) =>
  z
    .number({ error: "must be an integer of 0 or more" })
    .int({ error: "must be an integer of 0 or more" })
    .min(0, { error: "must be an integer of 0 or more" })
    .default(fallback);
export const text = (fallback: string) => z.string({ error: "must be a string" }).default(fallback);
export const flag = (fallback: boolean) => z.boolean({ error: "must be true or false" }).default(fallback);
