/** Price in euro with a comma, as the shop shows it. */
export function formatPrice(value) {
  return `${value.toFixed(1).replace(".", ",")} €`;
}
