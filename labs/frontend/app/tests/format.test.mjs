import assert from "node:assert/strict";
import { test } from "node:test";

import { formatPrice } from "../lib/format.js";

test("formatPrice writes euros with a decimal comma", () => {
  assert.equal(formatPrice(19.9), "19,90 €");
});
