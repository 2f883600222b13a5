/** A price in cents as German shoppers read it: `12,50 €`. */
export function formatPrice(cents: number): string {
  const euros = (cents / 100).toFixed(2);
  return `${euros} €`;
}
