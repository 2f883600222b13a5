import { describe, expect, it } from "vitest";

import { formatPrice } from "@/lib/price";

describe("formatPrice", () => {
  it("writes euros with a decimal comma", () => {
    expect(formatPrice(1250)).toBe("12,50 €");
  });

  it("keeps two decimals", () => {
    expect(formatPrice(900)).toBe("9,00 €");
  });
});
