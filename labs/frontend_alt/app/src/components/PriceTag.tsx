import { formatPrice } from "@/lib/price";

export function PriceTag({ cents }: { cents: number }) {
  return <span className="price">{formatPrice(cents)}</span>;
}
